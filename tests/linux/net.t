#!/bin/bash
# hv-test: once
# hv-test: timeout=600
# Networking under Linux on the interpreter (accel=emu): two VMs in two
# hv processes on one private switch (its unix socket), an internal switch
# to a tap in a namespace, an external switch with adapter = a veth whose
# peer is in a second namespace, a NIC with offloads = off, and link state
# from the INI and at run time (hv ctl). Linux's own virtio_net in the
# guests; ping, busybox nc and the host kernel's tap/veth stack on the
# other end (tests/linux/net-run.sh has the picture). net-kvm.t runs the
# same under nested KVM.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins}
# shellcheck source=net-lib.sh
source "$here/net-lib.sh"
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
if [[ -z $kernel || ! -r $kernel ]]; then
	echo "not ok net - no readable /boot/vmlinuz-* (linux-image-amd64, root)"
	exit 0
fi
for c in ip busybox ethtool; do
	command -v $c >/dev/null || { echo "not ok net - $c missing (scripts/deps.sh)"; exit 0; }
done
t=$(mktemp -d "$root/build/net.XXXXXX")
trap 'rm -rf "$t"' EXIT
if ! err=$(net_prepare "$t" "${kernel##*/vmlinuz-}" 2>&1); then
	echo "not ok net-prepare - $(tail -n 3 <<<"$err" | tr '\n' ' ')"
	exit 0
fi
bash "$here/net-run.sh" "$t" "$build/hv" emu "$kernel" "${HV_NET_BOOT_SECS:-240}"
exit 0
