#!/bin/bash
# The VGA's keys: bad values are refused by hv check and hv run alike with
# one line naming the section and key (vram not a power of two or out of
# 1M..256M, max_width/max_height out of range or not fitting vram at 32
# bpp, a console that is not a section); good ones pass and hv check
# prints them.
set -u
b=${BUILD:-build}
hv=$PWD/$b/hv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ini() { # ini FILE KEY-LINES...
	local f=$1
	shift
	{
		printf '[vm]\nname = vgacfg\nmemory = 64M\naccel = emu\nkernel = %s\n' "$PWD/$b/guests/exit42.bin"
		printf '[device vga]\nplugin = vga\n'
		printf '%s\n' "$@"
	} > "$f"
}
# refuse NAME REGEX KEY-LINES...: check and run both fail with one line matching REGEX
refuse() {
	local name=$1 re=$2 c r
	shift 2
	ini "$tmp/$name.ini" "$@"
	c=$("$hv" check "$tmp/$name.ini" 2>&1 >/dev/null)
	crc=$?
	r=$(timeout 20 "$hv" run -q "$tmp/$name.ini" 2>&1 >/dev/null < /dev/null)
	rrc=$?
	if [ $crc = 1 ] && [ $rrc != 0 ] && [ $rrc != 42 ] && grep -Eq "$re" <<< "$c" &&
		[ "$(grep -Ec "$re" <<< "$r")" -ge 1 ] && [ "$(wc -l <<< "$c")" = 1 ]; then
		echo "ok vga-config-$name"
	else
		echo "not ok vga-config-$name - check ($crc): '$c' run ($rrc): '$r'"
	fi
}
refuse vram-not-pow2 'vga.*vram' 'vram = 3M'
refuse vram-too-small 'vga.*vram' 'vram = 512K'
refuse vram-too-big 'vga.*vram' 'vram = 512M'
refuse max-width-range 'vga.*max_width' 'max_width = 100'
refuse max-height-range 'vga.*max_height' 'max_height = 20000'
refuse max-not-fitting 'vga.*max_width x max_height' 'vram = 4M' 'max_width = 1600' 'max_height = 1200'
refuse console-missing 'vga.*console' 'console = nosuch'
ini "$tmp/good.ini" 'vram = 8M' 'max_width = 1280' 'max_height = 1024'
if out=$("$hv" check "$tmp/good.ini" 2>&1) && grep -q 'max_width = 1280' <<< "$out" &&
	grep -q 'vram = 8M' <<< "$out"; then
	echo "ok vga-config-good"
else
	echo "not ok vga-config-good - $out"
fi
