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
done
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
