#!/bin/bash
# The interpreter against the host CPU: random user-mode instruction
# sequences, fixed seed, a bounded number of cases.
bin=${BUILD:-build}/tests/emu-diff
if [ ! -x "$bin" ]; then
	echo "not ok emu-diff - $bin not built"
	exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
	echo "ok emu-diff # SKIP the host is not x86-64"
	exit 0
fi
"$bin" "${EMU_DIFF_CASES:-3000}" 0x9e3779b97f4a7c15
exit 0
