#!/bin/bash
# VHD: qemu-made images read back, ours pass qemu-img compare, the CHS
# rule for the size, differencing, the Microsoft/Virtual PC samples.
. "$(dirname "$0")/lib.sh"
D=$DISK
head -c $((20 << 20)) /dev/urandom > "$D/src.raw"
dd if=/dev/zero of="$D/src.raw" bs=1M seek=4 count=6 conv=notrunc 2>/dev/null
SRC=$D/src.raw
if have_qemu; then
	for sub in dynamic fixed; do
		rm -f "$D/q.vhd" "$D/o1.raw" "$D/o2.raw"
		qemu-img convert -f raw -O vpc -o subformat=$sub "$SRC" "$D/q.vhd"
		img convert -f vhd -O raw "$D/q.vhd" "$D/o1.raw"
		qemu-img convert -f vpc -O raw "$D/q.vhd" "$D/o2.raw"
		cmp -s "$D/o1.raw" "$D/o2.raw" && ok "vhd-qemu-$sub-read" || notok "vhd-qemu-$sub-read" differs
		rm -f "$D/h.vhd"
		img convert -O vhd $([ $sub = fixed ] && echo --fixed) "$SRC" "$D/h.vhd"
		check "vhd-ours-$sub-qemu-compare" qemu-img compare -q -f raw -F vpc "$SRC" "$D/h.vhd"
		# same size for both readers: current_size == CHS size
		a=$(qemu-img info --output=json -f vpc "$D/h.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
		b=$(img info --output=json -f vhd "$D/h.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
		[ "$a" = "$b" ] && ok "vhd-ours-$sub-size-agrees" || notok "vhd-ours-$sub-size-agrees" "qemu $a, hv $b"
	done
	# qemu writes into our dynamic image
	rm -f "$D/h.vhd"; img create -f vhd "$D/h.vhd" 20M
	qemu-io -f vpc -c "write -P 0x5a 1M 3M" "$D/h.vhd" >/dev/null
	rm -f "$D/o1.raw" "$D/o2.raw"
	img convert -O raw "$D/h.vhd" "$D/o1.raw"; qemu-img convert -f vpc -O raw "$D/h.vhd" "$D/o2.raw"
	cmp -s "$D/o1.raw" "$D/o2.raw" && ok vhd-qemu-writes-ours || notok vhd-qemu-writes-ours differs
fi
# between formats: raw -> vhdx -> vhd -> vhdx -> raw keeps every byte
rm -f "$D/x1.vhdx" "$D/x2.vhd" "$D/x3.vhdx" "$D/x4.raw"
img convert -O vhdx "$SRC" "$D/x1.vhdx" && img convert -O vhd "$D/x1.vhdx" "$D/x2.vhd" &&
	img convert -O vhdx "$D/x2.vhd" "$D/x3.vhdx" && img convert -O raw "$D/x3.vhdx" "$D/x4.raw"
cmp -s -n $((20 << 20)) "$SRC" "$D/x4.raw" && [ "$(tail -c +$(( (20 << 20) + 1 )) "$D/x4.raw" | tr -d '\0' | wc -c)" = 0 ] \
	&& ok vhd-vhdx-chain-convert || notok vhd-vhdx-chain-convert differs
if have_qemu; then check vhd-vhdx-chain-qemu-compare qemu-img compare -q -f vpc -F vhdx "$D/x2.vhd" "$D/x3.vhdx"; fi

# differencing: QEMU has no VHD parent support, so checked against the source
rm -f "$D/b.vhd" "$D/c.vhd"
img convert -O vhd "$SRC" "$D/b.vhd"; img create -f vhd -b "$D/b.vhd" "$D/c.vhd" >/dev/null
"$TOOL" write "$D/c.vhd" $((1 << 20)) 4096 0x77
"$TOOL" write "$D/c.vhd" $((5 << 20)) $((3 << 20)) 0x78
cp "$SRC" "$D/want.raw"
sz=$(img info --output=json "$D/c.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
truncate -s "$sz" "$D/want.raw"
head -c 4096 /dev/zero | tr '\0' '\167' | dd of="$D/want.raw" bs=1M seek=1 conv=notrunc 2>/dev/null
head -c $((3 << 20)) /dev/zero | tr '\0' '\170' | dd of="$D/want.raw" bs=1M seek=5 conv=notrunc 2>/dev/null
"$TOOL" cat "$D/c.vhd" | cmp -s - "$D/want.raw" && ok vhd-diff-read || notok vhd-diff-read differs
"$TOOL" cat "$D/b.vhd" | cmp -s -n $((20 << 20)) - "$SRC" && ok vhd-diff-parent-untouched || notok vhd-diff-parent-untouched differs
# commit: the core reopens the linked parent read-write, then read-only
if out=$(img commit "$D/c.vhd" 2>&1); then
	"$TOOL" cat "$D/b.vhd" | cmp -s - "$D/want.raw" && ok vhd-commit || notok vhd-commit "parent differs"
else notok vhd-commit "$out"; fi
# samples
S=$(samples)
for s in hyperv2012r2-dynamic:136365211648 virtualpc-dynamic:136363130880; do
	n=${s%%:*}; want=${s#*:}
	got=$(img info --output=json "$S/$n.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
	[ "$got" = "$want" ] && ok "vhd-sample-$n-size" || notok "vhd-sample-$n-size" "$got"
	m=$(img map --output=json "$S/$n.vhd")
	[ "$(echo "$m" | grep -c '"data": true')" = 0 ] && ok "vhd-sample-$n-empty" || notok "vhd-sample-$n-empty" "$m"
done
exit 0
