#!/bin/bash
# hv-test: once
# hv-test: timeout=200
# libFuzzer over plugins/vnic (make fuzz-vnic): virtio-net's tx, rx and
# control paths on libhv-virtio with a hostile ring and a hostile wire
# (tests/vnic/fuzz_vnic.c), a bounded run from seeds of good traffic of
# each kind (tests/vnic/seeds.py). Artifacts: build/fuzz/artifacts.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
runs=${HV_FUZZ_RUNS:-200000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-vnic - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
mkdir -p build/fuzz/artifacts
if ! make -s fuzz-vnic > build/fuzz-vnic.build.log 2>&1; then
	echo "not ok fuzz-vnic - does not build: $(tail -3 build/fuzz-vnic.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/vnic-corpus
rm -rf "$corpus"
python3 tests/vnic/seeds.py "$corpus"
n=$(find "$corpus" -type f | wc -l)
if [ "$n" -lt 11 ]; then
	echo "not ok fuzz-vnic - only $n seeds"
	exit 0
fi
if build/fuzz/fuzz_vnic -runs="$runs" -max_len=2048 -timeout=10 -max_total_time=150 \
	-artifact_prefix=build/fuzz/artifacts/vnic- "$corpus" > build/fuzz-vnic.log 2>&1; then
	echo "ok fuzz-vnic ($n seeds, $(grep -o 'Done [0-9]* runs' build/fuzz-vnic.log), $(grep -o 'cov: [0-9]*' build/fuzz-vnic.log | tail -1))"
else
	echo "not ok fuzz-vnic - $(grep -m1 -E 'ERROR|SUMMARY|deadly' build/fuzz-vnic.log)"
fi
