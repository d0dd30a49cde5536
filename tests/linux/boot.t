# hv-test: once
# hv-test: timeout=900
# Debian's own kernel under hv's KVM backend, inside the nested VM
# (tests/nested): cpus=2, 512 MiB, the platform's ACPI, PCI and RTC, a
# busybox initramfs from scripts/mkinitramfs.sh. Asserts the boot, a
# command over the serial console, /proc/cpuinfo, /proc/meminfo, lspci,
# the clock, and that `poweroff` ends hv with status 0 (tests/linux/inside.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
# shellcheck source=../nested/lib.sh
source "$root/tests/nested/lib.sh"
kernel=$(nested_kernel 2>&1) || { echo "not ok linux-boot - $kernel"; exit 1; }
payload=$root/build/nested/linux.payload
rm -rf "$payload"
mkdir -p "$payload/plugins"
cp "$build/hv" "$payload/hv"
cp "$build"/plugins/*.so "$payload/plugins/"
cp "$kernel" "$payload/vmlinuz"
cp "$here/inside.sh" "$payload/inside.sh"
# Debian's busybox-static has no lspci applet: pciutils' own goes in
extra=()
lspci=$(command -v lspci) || { echo "not ok linux-boot - lspci missing (apt-get install pciutils)"; exit 1; }
extra+=(--file "$lspci:/bin/lspci")
[[ ! -r /usr/share/misc/pci.ids ]] || extra+=(--file /usr/share/misc/pci.ids)
# the power button (SIGTERM) needs button.ko, and evdev for acpid
extra+=(--kver "$(nested_kver "$kernel")" --module button --module evdev)
# a generic driver that takes the pci-testdev's INTx (tests/linux/inside.sh)
extra+=(--module uio_pci_generic)
if ! err=$("$root/scripts/mkinitramfs.sh" "$payload/initramfs.cpio.gz" "${extra[@]}" 2>&1); then
	echo "not ok linux-boot - mkinitramfs.sh failed: $err"
	exit 1
fi
cat >"$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
sh /hv/inside.sh "$@"
INSIDE
nested_run --payload "$payload" --timeout "${HV_LINUX_TIMEOUT:-840}" \
	--name linux -- "${HV_LINUX_CPUS:-2}" 512M ${HV_LINUX_APPEND:+"$HV_LINUX_APPEND"}
