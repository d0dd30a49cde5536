#!/bin/bash
# hv-test: once
# hv-test: timeout=900
# tests/linux/storage.t's VM, disks and checks under hv's KVM backend in
# the nested VM (tests/nested): the same images (made here by qemu-img,
# xorriso and hv img), the same guest script (storage-guest.sh), the same
# boot (storage-run.sh, accel=kvm) and the same host-side checks
# (storage-verify.sh, run in the nested VM with qemu-img and e2fsprogs).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/${BUILD:-build}
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$build/plugins}
export STOR_HV=$build/hv
# shellcheck source=../nested/lib.sh
source "$root/tests/nested/lib.sh"
# shellcheck source=storage-lib.sh
source "$here/storage-lib.sh"
kernel=$(nested_kernel 2>&1) || { echo "not ok storage-kvm - $kernel"; exit 1; }
payload=$root/build/nested/storage.payload
rm -rf "$payload"
mkdir -p "$payload/plugins" "$payload/bin" "$payload/st"
cp "$build/hv" "$payload/hv"
cp "$build"/plugins/*.so "$payload/plugins/"
cp "$kernel" "$payload/vmlinuz"
cp "$here/storage-run.sh" "$here/storage-verify.sh" "$payload/"
for b in qemu-img debugfs; do cp "$(command -v $b)" "$payload/bin/"; done
cp "$(readlink -f "$(command -v fsck.ext4)")" "$payload/bin/fsck.ext4"
if ! err=$(STOR_DISK_SECS=90 stor_prepare "$payload/st" "$(nested_kver "$kernel")" 2>&1); then
	echo "not ok storage-kvm-prepare - $(tail -n 3 <<<"$err" | tr '\n' ' ')"
	exit 1
fi
cat >"$payload/run-inside.sh" <<'INSIDE'
#!/bin/sh
export PATH=/hv/bin:$PATH HV_PLUGIN_PATH=/hv/plugins
sh /hv/storage-run.sh /hv/st /hv/hv kvm 256M /hv/vmlinuz "${1:-400}"
sh /hv/storage-verify.sh /hv/st /hv/hv
INSIDE
nested_run --payload "$payload" --timeout "${HV_STORAGE_KVM_TIMEOUT:-840}" \
	--name storage -- 300 | sed 's/^\(\(not \)\{0,1\}ok \)storage-/\1storage-kvm-/'
exit "${PIPESTATUS[0]}"
