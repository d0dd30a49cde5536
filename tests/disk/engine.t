#!/bin/bash
# The file engine: libaio where O_DIRECT opens (a disk-backed directory;
# tmpfs too on Linux >= 6.6), the thread pool where it does not, or when
# HV_DISK_NODIRECT forces it; both paths must move the same bytes.
. "$(dirname "$0")/lib.sh"

head -c $((24 << 20)) /dev/urandom > "$SHM/src.raw"
direct_ok() { python3 -c "import os,sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT))" "$1" 2>/dev/null; }
for mode in tmpfs disk pool; do
	dir=$([ $mode = tmpfs ] && echo "$SHM" || echo "$DISK")
	name=$mode
	if [ $mode = pool ]; then export HV_DISK_NODIRECT=1; fi
	rm -f "$dir/a.raw" "$dir/a.vhdx"
	check "engine-$name-raw-roundtrip" bash -c "'${IMG[0]}' ${IMG[1]} convert -O raw '$SHM/src.raw' '$dir/a.raw' && cmp '$SHM/src.raw' '$dir/a.raw'"
	img convert -O vhdx "$SHM/src.raw" "$dir/a.vhdx" >/dev/null 2>&1
	# unaligned-in-memory and odd-sized writes go through the bounce path
	stats=$(HV_DISK_STATS=1 "$TOOL" write "$dir/a.vhdx" 512 1536 0x3c 2>&1 >/dev/null)
	got=$("$TOOL" read "$dir/a.vhdx" 0 4096 | od -An -tx1 -v | tr -d ' \n' | cut -c1-4100)
	want=$(head -c 512 "$SHM/src.raw" | od -An -tx1 -v | tr -d ' \n')$(printf '3c%.0s' $(seq 1536))
	[ "${got:0:4096}" = "$want" ] && ok "engine-$name-small-write" || notok "engine-$name-small-write" "bytes differ"
	aio=$(echo "$stats" | sed -n 's/.*aio=\([0-9]*\).*/\1/p')
	pool=$(echo "$stats" | sed -n 's/.*pool=\([0-9]*\).*/\1/p')
	if [ $mode = pool ] || ! direct_ok "$dir/a.vhdx"; then
		[ "$aio" = 0 ] && [ "${pool:-0}" -gt 0 ] && ok "engine-$name-uses-pool" || notok "engine-$name-uses-pool" "$stats"
	else
		[ "${aio:-0}" -gt 0 ] && ok "engine-$name-uses-libaio" || notok "engine-$name-uses-libaio" "$stats"
	fi
	unset HV_DISK_NODIRECT
done
# a block device, when a loop device can be had (root only)
if [ "$(id -u)" = 0 ] && dev=$(losetup -f --show "$DISK/a.raw" 2>/dev/null); then
	sz=$(img info --output=json -f raw "$dev" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
	[ "$sz" = $((24 << 20)) ] && ok "engine-blockdev-size" || notok "engine-blockdev-size" "size $sz"
	losetup -d "$dev"
else
	ok "engine-blockdev-size # skip: no loop device"
fi
exit 0
