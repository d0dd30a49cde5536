#!/bin/bash
# hv-test: once
# libFuzzer over the VGA's register interface (make fuzz-vga): DISPI
# through the VBE ports and BAR2, EDID and extension reads, the VGA port
# mirror, framebuffer writes, refreshes, save/restore with a corrupted
# byte, in random order and four configurations, under ASan/UBSan; after
# every access the DISPI mode must lie inside vram, and every surface and
# damaged rectangle inside its limits. Skipped without clang.
root=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${HV_FUZZ_RUNS:-20000}
if ! command -v clang >/dev/null; then echo "ok fuzz-vga # skip: no clang"; exit 0; fi
if ! out=$(make -s -C "$root" fuzz-vga 2>&1); then
	echo "not ok fuzz-vga-build - $(echo "$out" | tail -1)"
	exit 0
fi
echo "ok fuzz-vga-build"
art=$root/build/fuzz/artifacts
mkdir -p "$art"
c=$(mktemp -d)
trap 'rm -rf "$c"' EXIT
# seeds (records of 4 bytes after a configuration byte): 1600x1200x32
# through the VBE ports, a framebuffer write, a refresh; the same mode
# through BAR2, panned
rec() { printf "\\x$(printf %02x "$1")\\x$(printf %02x "$2")\\x$(printf %02x $(($3 & 255)))\\x$(printf %02x $(($3 >> 8)))"; }
{
	printf '\x02'
	rec 0 0 4; rec 0 1 0; rec 0 0 3; rec 0 1 32; rec 0 0 1; rec 0 1 1600
	rec 0 0 2; rec 0 1 1200; rec 0 0 4; rec 0 1 0x41; rec 5 1 0; rec 4 7 0x1234; rec 5 1 0
	rec 0 0 9; rec 0 1 300; rec 5 0 0; rec 7 1 0x0102
} > "$c/ports"
{
	printf '\x01'
	# BAR2 16-bit writes (op 2, size bits 1) at 0x500 + 2 * index:
	# off = (r0 >> 5) << 9 | r1 << 1, so r0 = 0x4a, r1 = 0x80 + index
	rec 0x4a $((0x80 + 3)) 16; rec 0x4a $((0x80 + 1)) 1024
	rec 0x4a $((0x80 + 2)) 768; rec 0x4a $((0x80 + 4)) 0x41
	rec 0x4a $((0x80 + 6)) 2048; rec 0x4a $((0x80 + 8)) 900
	rec 3 0 0; rec $((0x03 | 16)) 0 0; rec 5 0 0
} > "$c/bar2"
if out=$("$root/build-fuzz/fuzz-vga" -runs="$RUNS" -max_len=4096 -max_total_time=90 \
		-artifact_prefix="$art/" "$c" 2>&1); then
	echo "ok fuzz-vga-$RUNS-runs"
else
	echo "not ok fuzz-vga-$RUNS-runs - $(echo "$out" | grep -m1 -E 'ERROR|SUMMARY|deadly')"
fi
exit 0
