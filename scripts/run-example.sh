#!/usr/bin/env bash
# `make run`: boot Debian's own kernel (examples/linux.ini) with a busybox
# initramfs on this terminal: on KVM where /dev/kvm works, else on hv's
# interpreter (about 25 s to the shell here). `poweroff` in the guest ends
# it; Ctrl-A x quits at once. HV_EXAMPLE=hello boots the bare-metal example.
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
if [ -c /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "== booting $kernel on KVM (examples/linux.ini); 'poweroff' ends it, Ctrl-A x quits"
else
	echo "== no usable /dev/kvm: booting $kernel on hv's x86 interpreter (about 25 s"
	echo "== to the shell); 'poweroff' ends it, Ctrl-A x quits"
fi
exec build/hv run examples/linux.ini
