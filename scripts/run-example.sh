#!/usr/bin/env bash
# `make run`: boot Debian's own kernel (examples/linux.ini) with a busybox
# initramfs on this terminal: on KVM where /dev/kvm really runs guest
# kernels (`hv accel` says), else on hv's interpreter (30-60 s to the
# shell). `poweroff` in the guest ends it; Ctrl-A x quits at once.
# HV_EXAMPLE=hello boots the bare-metal example.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${HV_EXAMPLE:-linux}" = hello ]; then
	exec build/hv run examples/hello.ini
fi
kernel=$(readlink -f /vmlinuz 2>/dev/null || true)
if [ ! -r "$kernel" ]; then
	echo "== no readable /vmlinuz (package linux-image-amd64; as root): booting the bare-metal example"
	exec build/hv run examples/hello.ini
fi
initrd=build/linux-initramfs.cpio.gz
[ -s "$initrd" ] || scripts/mkinitramfs.sh "$initrd"
# the same rule as `hv run`: KVM only where it really runs guest kernels
accel=$(build/hv accel --name examples/linux.ini)
if [ "$accel" = kvm ]; then
	echo "== booting $kernel on KVM (examples/linux.ini); 'poweroff' ends it, Ctrl-A x quits"
else
	echo "== $(build/hv accel examples/linux.ini | tail -1)"
	echo "== booting $kernel on hv's x86 interpreter: the kernel's messages follow,"
	echo "== the shell comes after about 30-60 s; 'poweroff' ends it, Ctrl-A x quits"
fi
exec build/hv run examples/linux.ini
