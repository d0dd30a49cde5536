#!/bin/bash
# The VGA's EDID (plugins/display/edid.c) for several max_width x max_height,
# read by two parsers written elsewhere than edid.c: Debian's edid-decode
# --check (conformity to EDID 1.4: checksum, descriptors, timings inside
# the range limits, image sizes) and the python below from the VESA
# E-EDID layout (header, version, checksum, the first detailed timing is
# the largest mode, nothing listed is larger than the maximum).
set -u
b=${BUILD:-build}
dump=$b/tests/display/edid-dump
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
have_decode=1
command -v edid-decode > /dev/null || have_decode=0
# pairs: the maximum asked for, and the preferred mode a DTD can hold
for m in 1600x1200:1600x1200 1024x768:1024x768 320x200:320x200 \
	1920x1080:1920x1080 3840x2400:3840x2400 16384x12288:4088x4095; do
	max=${m%%:*} pref=${m##*:}
	w=${max%x*} h=${max#*x}
	"$dump" "$w" "$h" > "$tmp/e.bin"
	if [ "$have_decode" = 1 ]; then
		if edid-decode --check "$tmp/e.bin" > "$tmp/d.txt" 2>&1; then
			echo "ok edid-decode-check-$max"
		else
			echo "not ok edid-decode-check-$max - $(grep -A3 -E '^(Failures|Warnings)' "$tmp/d.txt" | tr '\n' ' ')"
		fi
		if grep -Eq "DTD 1: +$pref " "$tmp/d.txt"; then
			echo "ok edid-decode-preferred-$max"
		else
			echo "not ok edid-decode-preferred-$max - $(grep 'DTD 1' "$tmp/d.txt")"
		fi
		# every mode edid-decode lists fits the maximum
		big=$(grep -Eo '\b[0-9]{3,5}x[0-9]{3,5}\b' "$tmp/d.txt" |
			awk -F x -v W="$w" -v H="$h" '$1 > W || $2 > H' | head -1)
		if [ -z "$big" ]; then echo "ok edid-decode-within-$max"; else echo "not ok edid-decode-within-$max - lists $big"; fi
	else
		echo "ok edid-decode-check-$max # skip: no edid-decode"
	fi
	if out=$(python3 - "$tmp/e.bin" "$w" "$h" "$pref" <<'PY' 2>&1
import struct, sys
e = open(sys.argv[1], 'rb').read()
W, H = int(sys.argv[2]), int(sys.argv[3])
pw, ph = map(int, sys.argv[4].split('x'))
assert len(e) == 128, len(e)
assert e[:8] == b'\x00\xff\xff\xff\xff\xff\xff\x00', 'header'
assert sum(e) % 256 == 0, 'checksum'
assert (e[18], e[19]) == (1, 4), 'version'
assert e[20] & 0x80, 'digital'
assert e[24] & 0x02, 'preferred timing is native'
assert e[126] == 0, 'extensions'
def dtd(d):
    clock = struct.unpack('<H', d[0:2])[0] * 10000
    ha = d[2] | (d[4] >> 4) << 8; hb = d[3] | (d[4] & 15) << 8
    va = d[5] | (d[7] >> 4) << 8; vb = d[6] | (d[7] & 15) << 8
    hfp = d[8] | (d[11] >> 6) << 8; hsw = d[9] | (d[11] >> 4 & 3) << 8
    vfp = d[10] >> 4 | (d[11] >> 2 & 3) << 4; vsw = d[10] & 15 | (d[11] & 3) << 4
    assert hfp + hsw <= hb and vfp + vsw <= vb, 'porches inside blanking'
    return ha, va, clock / ((ha + hb) * (va + vb))
modes = []
for off in (54, 72, 90, 108):
    d = e[off:off + 18]
    if d[0] or d[1]:
        modes.append(dtd(d))
ha, va, hz = modes[0]
assert (ha, va) == (pw, ph), 'preferred %dx%d' % (ha, va)
assert 24 <= hz <= 61, 'refresh %.2f' % hz
for i in range(8):
    b1, b2 = e[38 + 2 * i], e[39 + 2 * i]
    if (b1, b2) == (1, 1):
        continue
    sw = (b1 + 31) * 8
    sh = sw * {0: (10, 16), 1: (3, 4), 2: (4, 5), 3: (9, 16)}[b2 >> 6][0] // {0: 16, 1: 4, 2: 5, 3: 16}[b2 >> 6]
    modes.append((sw, sh, (b2 & 63) + 60))
for m in modes:
    assert m[0] <= W and m[1] <= H, 'mode %dx%d past the maximum' % m[:2]
print(len(modes), 'modes')
PY
); then
		echo "ok edid-python-$max ($out)"
	else
		echo "not ok edid-python-$max - $(echo "$out" | tail -1)"
	fi
done
