#!/bin/bash
# The interpreter against the hardware-captured 80286 real-mode vectors:
# one ok/not ok line per opcode file, then the pass rate.
dir=$(cd "$(dirname "$0")" && pwd)
# shared/ lies beside the clone (CI), or at /work/shared
shared=${HV_SHARED:-$(cd "$dir/../../../shared" 2>/dev/null && pwd || echo /work/shared)}
vec=${HV_X86_VECTORS:-$shared/x86-vectors}/80286-real
bin=${BUILD:-build}/tests/emu-conformance
if [ ! -d "$vec" ]; then
	echo "not ok emu-conformance - no vectors at $vec (set HV_SHARED)"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "not ok emu-conformance - $bin not built"
	exit 0
fi
EMU_KNOWN=$dir/conformance-known.txt "$bin" "$vec"
exit 0
