#!/bin/bash
# The interpreter against the hardware-captured 80286 real-mode vectors:
# one ok/not ok line per opcode file, then the pass rate.
dir=$(cd "$(dirname "$0")" && pwd)
vec=${HV_X86_VECTORS:-/work/shared/x86-vectors}/80286-real
bin=${BUILD:-build}/tests/emu-conformance
if [ ! -d "$vec" ]; then
	echo "ok emu-conformance # SKIP no vectors at $vec"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "not ok emu-conformance - $bin not built"
	exit 0
fi
EMU_KNOWN=$dir/conformance-known.txt "$bin" "$vec"
exit 0
