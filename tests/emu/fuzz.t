#!/bin/bash
# A bounded libFuzzer run over the decoder (and one interpreter step).
# hv-test: once
bin=${BUILD:-build}/tests/emu-fuzz
if ! command -v clang > /dev/null; then
	echo "not ok emu-fuzz - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-emu > build/fuzz-emu.build.log 2>&1 || [ ! -x "$bin" ]; then
	echo "not ok emu-fuzz - make fuzz-emu failed: $(tail -3 build/fuzz-emu.build.log | tr '\n' ' ')"
	exit 0
fi
log=$(mktemp)
mkdir -p build/fuzz/artifacts
if "$bin" -runs="${EMU_FUZZ_RUNS:-20000}" -seed=1 -max_len=40 \
	-artifact_prefix=build/fuzz/artifacts/ > "$log" 2>&1; then
	echo "ok emu-fuzz ($(grep -o 'Done [0-9]* runs' "$log"))"
else
	echo "not ok emu-fuzz - $(grep -m1 -E 'ERROR|SUMMARY' "$log")"
fi
rm -f "$log"
exit 0
