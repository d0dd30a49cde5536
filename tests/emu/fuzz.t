#!/bin/bash
# A bounded libFuzzer run over the decoder (and one interpreter step).
# Builds nothing: `make fuzz-emu` (clang) makes the binary.
# hv-test: once
bin=${BUILD:-build}/tests/emu-fuzz
if [ ! -x "$bin" ]; then
	if command -v clang > /dev/null; then
		echo "ok emu-fuzz # SKIP $bin not built (make fuzz-emu)"
	else
		echo "ok emu-fuzz # SKIP clang not installed"
	fi
	exit 0
fi
log=$(mktemp)
if "$bin" -runs="${EMU_FUZZ_RUNS:-20000}" -seed=1 -max_len=40 > "$log" 2>&1; then
	echo "ok emu-fuzz ($(grep -o 'Done [0-9]* runs' "$log"))"
else
	echo "not ok emu-fuzz - $(grep -m1 -E 'ERROR|SUMMARY' "$log")"
fi
rm -f "$log"
exit 0
