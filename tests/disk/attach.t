#!/bin/bash
# A device attaches a [disk NAME] through the SDK inside a running VM:
# format probed or named, readonly, errors naming the section and the
# file; the VM's teardown closes the image cleanly.
. "$(dirname "$0")/lib.sh"
D=$DISK
[ -x "${HV:-}" ] || { ok "attach # skip: no hv binary"; exit 0; }
export HV_PLUGIN_PATH=$HV_PLUGIN_PATH:$BUILD/tests/disk/plugins
printf '\xeb\xfe' > "$D/spin.bin" # jmp $: the guest spins, the device ends the VM
head -c $((4 << 20)) /dev/urandom > "$D/s.raw"
first=$(od -An -tx1 -N4 "$D/s.raw" | tr -d ' ')
vm() { # FILE [disk-section lines...]
	local f=$1; shift
	{ printf '[vm]\nmemory = 16M\naccel = emu\nkernel = spin.bin\nkernel_format = flat\n\n'
	  printf '[device dc]\nplugin = diskcheck\ndisk = root\n\n[disk root]\n'
	  printf '%s\n' "$@"; } > "$D/$f"
}
run() { (cd "$D" && timeout 20 "$HV" run -v "$1" 2>&1 < /dev/null); }
for fmt in vhdx vhd raw; do
	rm -f "$D/d.$fmt"; img convert -O $fmt "$D/s.raw" "$D/d.$fmt"
	vm $fmt.ini "path = d.$fmt"
	out=$(run $fmt.ini); rc=$?
	if [ $rc = 0 ] && echo "$out" | grep -q "dc: read sector 0: $first" && echo "$out" | grep -q "wrote and flushed"; then
		ok "attach-$fmt-probed"
	else notok "attach-$fmt-probed" "status $rc: $(echo "$out" | tr '\n' '|')"; fi
	got=$("$TOOL" read "$D/d.$fmt" 4096 512 | tr -d '\253' | wc -c)
	[ "$got" = 0 ] && ok "attach-$fmt-write-landed" || notok "attach-$fmt-write-landed" "sector 8 not 0xab"
	# v2.1 HV_DISK_WRITE_ZEROES over [8192, 12288), read back by qemu-img
	echo "$out" | grep -q "dc: zeroes read back" && ok "attach-$fmt-write-zeroes" ||
		notok "attach-$fmt-write-zeroes" "$(echo "$out" | tr '\n' '|')"
	q=$fmt; [ $fmt = vhd ] && q=vpc
	rm -f "$D/q.raw"
	if qemu-img convert -f $q -O raw "$D/d.$fmt" "$D/q.raw" 2>/dev/null; then
		z=$(dd if="$D/q.raw" bs=4096 skip=2 count=1 2>/dev/null | tr -d '\0' | wc -c)
		r=$(dd if="$D/q.raw" bs=4096 skip=3 count=1 2>/dev/null | cmp -s - <(dd if="$D/s.raw" bs=4096 skip=3 count=1 2>/dev/null) && echo same)
		[ "$z" = 0 ] && [ "$r" = same ] && ok "attach-$fmt-zeroes-qemu-img" ||
			notok "attach-$fmt-zeroes-qemu-img" "$z non-zero bytes at 8192, next block: ${r:-changed}"
	else notok "attach-$fmt-zeroes-qemu-img" "qemu-img cannot read d.$fmt"; fi
	# every extent of the 4 MiB written is data (VHD rounds the size up)
	echo "$out" | awk '/dc: map /{ split($4, a, "+"); if (a[1] < 4194304 && $5 != "data") bad = 1; n++ }
		END { exit bad || !n }' && ok "attach-$fmt-map-data" ||
		notok "attach-$fmt-map-data" "$(echo "$out" | grep 'dc: map' | tr '\n' '|')"
done
# serial and media (v2.1 hv_disk_info)
echo "$out" | grep -q "serial 'root'" && ok attach-serial-default || notok attach-serial-default "$(echo "$out" | head -1)"
vm serial.ini "path = d.raw" "serial = HV-0123456789"
out=$(run serial.ini)
echo "$out" | grep -q "serial 'HV-0123456789'" && ok attach-serial-set || notok attach-serial-set "$(echo "$out" | head -1)"
vm badserial.ini "path = d.raw" "serial = 0123456789abcdefghijk"
expect_err attach-serial-too-long "badserial.ini:13: \[disk root\]: serial = 0123456789abcdefghijk: at most 20" run badserial.ini
expect_err attach-serial-too-long-check "badserial.ini:13: \[disk root\]: serial" "$HV" check "$D/badserial.ini"
vm cd.ini "path = d.raw" "media = cdrom"
out=$(run cd.ini); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q "cdrom, read-only" && echo "$out" | grep -q "submit refused: -30" &&
	ok attach-cdrom-readonly || notok attach-cdrom-readonly "status $rc: $(echo "$out" | tr '\n' '|')"
vm badmedia.ini "path = d.raw" "media = floppy"
expect_err attach-media-bad "badmedia.ini:9: .*media.*disk\|cdrom|media.*floppy" "$HV" check "$D/badmedia.ini"
# the chain's map: an empty dynamic VHDX reads as zeroes; a child of a
# full parent shows the parent's data; a child's own write is data
rm -f "$D/e.vhdx" "$D/c.vhdx"
img create -f vhdx "$D/e.vhdx" 4M >/dev/null
vm empty.ini "path = e.vhdx"
out=$(run empty.ini)
echo "$out" | grep -q "dc: map 0+4194304 zero$" && ok attach-map-empty-zero ||
	notok attach-map-empty-zero "$(echo "$out" | grep 'dc: map' | tr '\n' '|')"
img create -f vhdx -b "$D/d.vhdx" "$D/c.vhdx" >/dev/null
vm child.ini "path = c.vhdx"
out=$(run child.ini)
echo "$out" | awk '/dc: map /{ if ($5 != "data") bad = 1; n++ } END { exit bad || !n }' &&
	ok attach-map-child-parent-data ||
	notok attach-map-child-parent-data "$(echo "$out" | grep -E 'dc: map|error' | tr '\n' '|')"

# closed cleanly by the VM's teardown: a read-only open finds no dirty log
check attach-vhdx-closed-clean img info "$D/d.vhdx"
vm named.ini "path = d.vhdx" "format = vhdx"
out=$(run named.ini) && ok attach-format-named || notok attach-format-named "$(echo "$out" | tail -1)"
vm ro.ini "path = d.vhdx" "readonly = on"
out=$(run ro.ini); rc=$?
[ $rc = 3 ] && echo "$out" | grep -q "submit refused: -30" && ok attach-readonly-refuses-writes || notok attach-readonly-refuses-writes "status $rc: $(echo "$out" | tr '\n' '|')"
vm missing.ini "path = nothere.vhdx"
out=$(run missing.ini); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "disk root.*nothere.vhdx: No such file" && ok attach-missing-file || notok attach-missing-file "$(echo "$out" | tr '\n' '|')"
cp "$D/d.vhdx" "$D/bad.vhdx"; printf '\xff' | dd of="$D/bad.vhdx" bs=1 seek=$((0x10100)) conv=notrunc 2>/dev/null
printf '\xff' | dd of="$D/bad.vhdx" bs=1 seek=$((0x20100)) conv=notrunc 2>/dev/null
vm bad.ini "path = bad.vhdx" "format = vhdx"
out=$(run bad.ini); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "bad.vhdx: no valid header" && ok attach-corrupt-refused || notok attach-corrupt-refused "$(echo "$out" | tr '\n' '|')"
exit 0
