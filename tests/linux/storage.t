#!/bin/bash
# hv-test: once
# hv-test: timeout=900
# hv's storage controllers under Linux on the interpreter (accel=emu), one
# boot for every check: a PIIX IDE disk (VHD) and ATAPI CD (ISO), four
# virtio-scsi LUNs (raw, a differencing VHDX over a parent qemu-img made
# and filled, a dynamic VHDX with ext4, an MMC CD) and a virtio-blk disk
# (dynamic VHDX). The guest (storage-guest.sh, Linux's own ata_piix,
# sd_mod, sr_mod, virtio_scsi and virtio_blk) finds each disk, checks its
# size and serial, writes and reads back a pattern with O_DIRECT, mounts
# the ISOs, runs mkfs.ext4/fsck.ext4, sg3-utils and hdparm; then the host
# checks every image with hv img check and against a reference with
# qemu-img compare or cmp (storage-verify.sh). storage-kvm.t runs the same
# under nested KVM.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins}
export STOR_HV=$build/hv
# shellcheck source=storage-lib.sh
source "$here/storage-lib.sh"
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
if [[ -z $kernel || ! -r $kernel ]]; then
	echo "not ok storage - no readable /boot/vmlinuz-* (linux-image-amd64, root)"
	exit 0
fi
kver=${kernel##*/vmlinuz-}
t=$(mktemp -d "$root/build/storage.XXXXXX")
trap 'rm -rf "$t"' EXIT
if ! err=$(stor_prepare "$t" "$kver" 2>&1); then
	echo "not ok storage-prepare - $(tail -n 3 <<<"$err" | tr '\n' ' ')"
	exit 0
fi
sh "$here/storage-run.sh" "$t" "$STOR_HV" emu 256M "$kernel" "${HV_STORAGE_TIMEOUT:-780}"
sh "$here/storage-verify.sh" "$t" "$STOR_HV"
exit 0
