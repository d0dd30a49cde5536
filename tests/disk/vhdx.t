#!/bin/bash
# VHDX: interop with qemu-img both ways, 4096-byte sectors and differencing
# chains against an independent reader written from the spec
# (vhdx_spec.py), the Microsoft-made samples, commit, resize, map, discard.
. "$(dirname "$0")/lib.sh"
SPEC="python3 tests/disk/vhdx_spec.py"
D=$DISK
# 24 MiB of random data with a 4 MiB hole
head -c $((24 << 20)) /dev/urandom > "$D/src.raw"
dd if=/dev/zero of="$D/src.raw" bs=1M seek=8 count=4 conv=notrunc 2>/dev/null
SRC=$D/src.raw

roundtrip() { # NAME IMAGE: our reader gives SRC back
	rm -f "$D/out.raw"
	if img convert -O raw "$2" "$D/out.raw" 2>"$D/err" && cmp -s "$SRC" "$D/out.raw"; then ok "$1"
	else notok "$1" "$(tail -1 "$D/err") differs"; fi
}

if have_qemu; then
	for bs in 1M 2M 8M 32M 64M 256M; do
		for sub in dynamic fixed; do
			rm -f "$D/q.vhdx"
			qemu-img convert -f raw -O vhdx -o subformat=$sub,block_size=$bs "$SRC" "$D/q.vhdx"
			roundtrip "vhdx-qemu-$sub-$bs-read" "$D/q.vhdx"
		done
	done
	rm -f "$D/q.vhdx"
	qemu-img convert -f raw -O vhdx -o subformat=fixed,block_state_zero=off "$SRC" "$D/q.vhdx"
	roundtrip "vhdx-qemu-fixed-nozero-read" "$D/q.vhdx"
	for bs in 1M 32M 256M; do
		for fx in "" --fixed; do
			n="vhdx-ours-${fx:-dynamic}-$bs"; n=${n/--/}
			rm -f "$D/h.vhdx"
			img convert -O vhdx $fx --block-size $bs "$SRC" "$D/h.vhdx"
			check "$n-qemu-check" qemu-img check -q "$D/h.vhdx"
			check "$n-qemu-compare" qemu-img compare -q -f raw -F vhdx "$SRC" "$D/h.vhdx"
		done
	done
	# QEMU writes into our image, we read what it wrote
	rm -f "$D/h.vhdx"; img create -f vhdx --block-size 1M "$D/h.vhdx" 24M
	qemu-io -f vhdx -c "write -P 0x5a 3M 5M" -c "write -P 0x11 1536 512" "$D/h.vhdx" >/dev/null
	img convert -O raw "$D/h.vhdx" "$D/o1.raw" 2>/dev/null
	qemu-img convert -f vhdx -O raw "$D/h.vhdx" "$D/o2.raw"
	cmp -s "$D/o1.raw" "$D/o2.raw" && ok vhdx-qemu-writes-ours || notok vhdx-qemu-writes-ours "differs"
else
	ok "vhdx-qemu # skip: no qemu-img"
fi

# our writer against the spec reader: 512 and 4096 logical sectors
for ls in 512 4096; do
	for bs in 1M 4M 256M; do
		rm -f "$D/l.vhdx"
		img convert -O vhdx --logical-sector $ls --block-size $bs "$SRC" "$D/l.vhdx"
		out=$($SPEC "$D/l.vhdx" "$D/spec.raw" 2>&1)
		if [ $? = 0 ] && cmp -s "$SRC" "$D/spec.raw" && echo "$out" | grep -q "lss=$ls"; then ok "vhdx-spec-ls$ls-$bs"
		else notok "vhdx-spec-ls$ls-$bs" "$out"; fi
		roundtrip "vhdx-ours-ls$ls-$bs-read" "$D/l.vhdx"
	done
done

# differencing: partial-block writes in the child, parent untouched
for ls in 512 4096; do
	rm -f "$D/base.vhdx" "$D/sub/child.vhdx"; mkdir -p "$D/sub"
	img convert -O vhdx --logical-sector $ls "$SRC" "$D/base.vhdx"
	img create -b "$D/base.vhdx" "$D/sub/child.vhdx" >/dev/null
	"$TOOL" write "$D/sub/child.vhdx" $((1 << 20)) 8192 0x77
	"$TOOL" write "$D/sub/child.vhdx" $((9 << 20)) $((3 << 20)) 0x78
	cp "$SRC" "$D/want.raw"
	head -c 8192 /dev/zero | tr '\0' '\167' | dd of="$D/want.raw" bs=1M seek=1 conv=notrunc 2>/dev/null
	head -c $((3 << 20)) /dev/zero | tr '\0' '\170' | dd of="$D/want.raw" bs=1M seek=9 conv=notrunc 2>/dev/null
	rm -f "$D/out.raw"; img convert -O raw "$D/sub/child.vhdx" "$D/out.raw"
	cmp -s "$D/want.raw" "$D/out.raw" && ok "vhdx-diff-ls$ls-read" || notok "vhdx-diff-ls$ls-read" differs
	out=$($SPEC "$D/sub/child.vhdx" "$D/spec.raw" 2>&1)
	[ $? = 0 ] && cmp -s "$D/want.raw" "$D/spec.raw" && ok "vhdx-diff-ls$ls-spec" || notok "vhdx-diff-ls$ls-spec" "$out"
	roundtrip "vhdx-diff-ls$ls-parent-untouched" "$D/base.vhdx"
	info=$(img info --output=json "$D/sub/child.vhdx")
	echo "$info" | grep -q '"backing-filename": ".*base.vhdx"' && ok "vhdx-diff-ls$ls-info" || notok "vhdx-diff-ls$ls-info" "$info"
done
# commit the (4096) child into its parent: the parent then reads as the child did
if out=$(img commit "$D/sub/child.vhdx" 2>&1); then
	rm -f "$D/out.raw"; img convert -O raw "$D/base.vhdx" "$D/out.raw"
	cmp -s "$D/want.raw" "$D/out.raw" && ok vhdx-commit || notok vhdx-commit "parent differs"
else notok vhdx-commit "$out"; fi

# resize (grow): old data kept, new space zero, qemu agrees on the size
rm -f "$D/r.vhdx"; img convert -O vhdx "$SRC" "$D/r.vhdx"
check vhdx-resize img resize "$D/r.vhdx" 64M
sz=$(img info --output=json "$D/r.vhdx" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
[ "$sz" = $((64 << 20)) ] && ok vhdx-resize-size || notok vhdx-resize-size "$sz"
rm -f "$D/out.raw"; img convert -O raw "$D/r.vhdx" "$D/out.raw"
cmp -s -n $((24 << 20)) "$SRC" "$D/out.raw" && [ "$(tail -c $((40 << 20)) "$D/out.raw" | tr -d '\0' | wc -c)" = 0 ] \
	&& ok vhdx-resize-data || notok vhdx-resize-data differs
if have_qemu; then check vhdx-resize-qemu-check qemu-img check -q "$D/r.vhdx"; fi
# growing past a sector-bitmap chunk (1 MiB blocks: 4 GiB per chunk)
rm -f "$D/r2.vhdx"; img create -f vhdx --block-size 1M "$D/r2.vhdx" 3G >/dev/null
"$TOOL" write "$D/r2.vhdx" $(( (3 << 30) - 4096 )) 4096 0x42
check vhdx-resize-new-chunk img resize "$D/r2.vhdx" 9G
check vhdx-resize-new-chunk-write "$TOOL" write "$D/r2.vhdx" $(( (9 << 30) - 4096 )) 4096 0x43
[ "$("$TOOL" read "$D/r2.vhdx" $(( (3 << 30) - 4096 )) 4096 | tr -d '\102' | wc -c)" = 0 ] && ok vhdx-resize-new-chunk-data || notok vhdx-resize-new-chunk-data differs
if have_qemu; then check vhdx-resize-new-chunk-qemu qemu-img check -q "$D/r2.vhdx"; fi

# map and discard: whole blocks become unmapped and read as zero
rm -f "$D/m.vhdx"; img convert -O vhdx --block-size 1M "$SRC" "$D/m.vhdx"
map=$(img map --output=json "$D/m.vhdx")
echo "$map" | grep -q '"start": 8388608, "length": 4194304, "data": false, "zero": true' && ok vhdx-map-hole || notok vhdx-map-hole "$map"
check vhdx-discard "$TOOL" discard "$D/m.vhdx" $((2 << 20)) $((2 << 20))
map=$(img map --output=json "$D/m.vhdx")
echo "$map" | grep -q '"start": 2097152, "length": 2097152, "data": false, "zero": true' && ok vhdx-discard-map || notok vhdx-discard-map "$map"
"$TOOL" read "$D/m.vhdx" $((2 << 20)) $((2 << 20)) | cmp -s - <(head -c $((2 << 20)) /dev/zero) && ok vhdx-discard-zero || notok vhdx-discard-zero "not zero"
if have_qemu; then check vhdx-discard-qemu-check qemu-img check -q "$D/m.vhdx"; fi
res=$(img check --output=json "$D/m.vhdx")
echo "$res" | grep -q '"check-errors": 0' && ok vhdx-check-json || notok vhdx-check-json "$res"

# metadata updates are batched per flush: 64 new blocks, one flush
if command -v strace >/dev/null; then
	rm -f "$D/g.vhdx"; img create -f vhdx --block-size 1M "$D/g.vhdx" 64M >/dev/null
	n=$(strace -f -c -e trace=fdatasync,fsync "$TOOL" write "$D/g.vhdx" 0 $((64 << 20)) 0x33 2>&1 |
		awk '$NF == "fdatasync" || $NF == "fsync" {s += $4} END {print s + 0}')
	[ "$n" -le 8 ] && ok "vhdx-alloc-64-blocks-$n-syncs" || notok vhdx-alloc-syncs-batched "$n fdatasyncs for 64 blocks"
	out=$("$TOOL" read "$D/g.vhdx" $((63 << 20)) 512 | od -An -tx1 | head -1 | tr -d ' ')
	[ "$out" = 33333333333333333333333333333333 ] && ok vhdx-alloc-64-blocks-data || notok vhdx-alloc-64-blocks-data "$out"
fi

# a log entry written from the spec over payload sectors (data and zero
# descriptors): a read-only open serves the replayed bytes from memory and
# leaves the file alone; check -r then writes them
rm -f "$D/lg.vhdx"; img convert -O vhdx --block-size 1M "$SRC" "$D/lg.vhdx"
lw=(8192:4096:0x77 $((1 << 20)):12288:0x78 $((2 << 20)):65536:0)
if out=$($SPEC mklog "$D/lg.vhdx" "${lw[@]}" 2>&1); then
	cp "$SRC" "$D/want.raw"
	python3 - "$D/want.raw" "${lw[@]}" <<'PY'
import sys
with open(sys.argv[1], 'r+b') as f:
    for w in sys.argv[2:]:
        o, l, b = (int(x, 0) for x in w.split(':')); f.seek(o); f.write(bytes([b]) * l)
PY
	sum=$(sha256sum < "$D/lg.vhdx")
	"$TOOL" cat "$D/lg.vhdx" > "$D/out.raw"
	cmp -s "$D/want.raw" "$D/out.raw" && ok vhdx-log-payload-readonly || notok vhdx-log-payload-readonly differs
	rm -f "$D/out.raw"; img convert -O raw "$D/lg.vhdx" "$D/out.raw"
	cmp -s "$D/want.raw" "$D/out.raw" && ok vhdx-log-payload-convert || notok vhdx-log-payload-convert differs
	[ "$(sha256sum < "$D/lg.vhdx")" = "$sum" ] && ok vhdx-log-payload-untouched || notok vhdx-log-payload-untouched "file changed"
	out=$(img check -r --output=json "$D/lg.vhdx")
	echo "$out" | grep -q '"corruptions-fixed": 1' && ok vhdx-log-payload-check-r || notok vhdx-log-payload-check-r "$out"
	rm -f "$D/out.raw"; img convert -O raw "$D/lg.vhdx" "$D/out.raw"
	cmp -s "$D/want.raw" "$D/out.raw" && ok vhdx-log-payload-written || notok vhdx-log-payload-written differs
else notok vhdx-log-payload "$out"; fi

# the dirty-log sample (samples.t hashes the whole 10 GiB, once)
S=$(samples)
cp --sparse=always "$S/iotest-dirtylog-10G-4M.vhdx" "$D/dirty.vhdx"
# read-only: replayed in memory, the file untouched
sum=$(sha256sum < "$D/dirty.vhdx")
[ "$("$TOOL" read "$D/dirty.vhdx" 0 $((18 << 20)) | tr -d '\245' | wc -c)" = 0 ] && ok vhdx-dirtylog-a5-readonly || notok vhdx-dirtylog-a5-readonly "not 0xa5"
check vhdx-dirtylog-info-readonly img info "$D/dirty.vhdx"
out=$(img check --output=json "$D/dirty.vhdx")
echo "$out" | grep -q '"check-errors": 1, "corruptions-fixed": 0' && ok vhdx-dirty-log-check-reports || notok vhdx-dirty-log-check-reports "$out"
[ "$(sha256sum < "$D/dirty.vhdx")" = "$sum" ] && ok vhdx-dirtylog-readonly-untouched || notok vhdx-dirtylog-readonly-untouched "file changed"
out=$(img check -r --output=json "$D/dirty.vhdx")
echo "$out" | grep -q '"corruptions-fixed": 1' && ok vhdx-dirty-log-replayed || notok vhdx-dirty-log-replayed "$out"
[ "$("$TOOL" read "$D/dirty.vhdx" 0 $((18 << 20)) | tr -d '\245' | wc -c)" = 0 ] && ok vhdx-dirtylog-a5 || notok vhdx-dirtylog-a5 "not 0xa5"
out=$(img check --output=json "$D/dirty.vhdx")
echo "$out" | grep -q '"check-errors": 0' && ok vhdx-dirty-log-clean-after || notok vhdx-dirty-log-clean-after "$out"
rm -f "$D/dirty.vhdx"
exit 0
