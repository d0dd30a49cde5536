#!/bin/bash
# hv-test: once
# libFuzzer over the legacy VGA half (make fuzz-vgatext): port sequences,
# window writes and refreshes, and font files, under ASan/UBSan; every
# surface and damaged rectangle is checked against its limits. Skipped
# without clang.
root=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${HV_FUZZ_RUNS:-20000}
if ! command -v clang >/dev/null; then echo "ok fuzz-vgatext # skip: no clang"; exit 0; fi
if ! out=$(make -s -C "$root" fuzz-vgatext 2>&1); then
	echo "not ok fuzz-vgatext-build - $(echo "$out" | tail -1)"
	exit 0
fi
echo "ok fuzz-vgatext-build"
art=$root/build/fuzz/artifacts
mkdir -p "$art"
c=$(mktemp -d)
trap 'rm -rf "$c"' EXIT
# seeds: 40 columns and double scan through the CRTC and sequencer, text
# written and refreshed; the real font file
printf '\x00\x00\x24\x01\x27\x00\x25\x01\x0f\x00\x14\x04\x28\x00\x15\x01\x00\x00\x2a\x18\x00\x41\x02\x18\x01\x1f\x03\x00\x00\x05' > "$c/modes"
{ printf '\x01'; gzip -dc /usr/share/consolefonts/Lat15-VGA16.psf.gz; } > "$c/font"
if out=$("$root/build-fuzz/fuzz-vgatext" -runs="$RUNS" -max_len=4096 -max_total_time=90 \
		-artifact_prefix="$art/" "$c" 2>&1); then
	echo "ok fuzz-vgatext-$RUNS-runs"
else
	echo "not ok fuzz-vgatext-$RUNS-runs - $(echo "$out" | grep -m1 -E 'ERROR|SUMMARY|deadly')"
fi
exit 0
