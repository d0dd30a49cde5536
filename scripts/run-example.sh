#!/usr/bin/env bash
# `make run`: boot an example VM on this terminal. With a usable /dev/kvm
# that is Debian's own kernel (examples/linux.ini) with a busybox initramfs;
# without one, hv's interpreter runs the bare-metal example, since it cannot
# boot Linux yet.
set -euo pipefail
cd "$(dirname "$0")/.."
kvm_usable() {
	[ -c /dev/kvm ] && { : < /dev/kvm; } 2> /dev/null && [ -w /dev/kvm ]
}
if kvm_usable; then
	initrd=build/linux-initramfs.cpio.gz
	[ -s "$initrd" ] || scripts/mkinitramfs.sh "$initrd"
	echo "== booting examples/linux.ini on KVM (Ctrl-A x quits; 'poweroff' in the guest ends it)"
	exec build/hv run examples/linux.ini
fi
echo "== /dev/kvm is not usable here, and hv's interpreter (accel=emu) cannot boot"
echo "== Linux yet: booting the bare-metal example examples/hello.ini instead"
exec build/hv run examples/hello.ini
