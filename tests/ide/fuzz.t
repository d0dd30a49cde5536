#!/bin/bash
# hv-test: once
# libFuzzer over the IDE plugin (make fuzz-ide): register writes, PRD
# tables and CDBs from the input against an ATA disk and an ATAPI CD, a
# bounded run under ASan/UBSan. Skipped without clang.
root=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${HV_FUZZ_RUNS:-20000}
if ! command -v clang >/dev/null; then echo "ok fuzz-ide # skip: no clang"; exit 0; fi
if ! out=$(make -s -C "$root" fuzz-ide 2>&1); then
	echo "not ok fuzz-ide-build - $(echo "$out" | tail -1)"
	exit 0
fi
echo "ok fuzz-ide-build"
art=$root/build/fuzz/artifacts
mkdir -p "$art"
c=$(mktemp -d)
trap 'rm -rf "$c"' EXIT
# a seed: select the master, IDENTIFY, read a word (records of 4 bytes)
printf '\x00\x06\xe0\x00\x00\x07\xec\x00\x01\x40\x00\x00\x05\x00\x00\x00' > "$c/identify"
if out=$("$root/build-fuzz/fuzz-ide" -runs="$RUNS" -max_len=4096 -max_total_time=60 \
		-artifact_prefix="$art/" "$c" 2>&1); then
	echo "ok fuzz-ide-$RUNS-runs"
else
	echo "not ok fuzz-ide-$RUNS-runs - $(echo "$out" | grep -m1 -E 'ERROR|SUMMARY')"
fi
exit 0
