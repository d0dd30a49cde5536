#!/bin/bash
# The interpreter against the hardware-captured 80286 real-mode vectors:
# one ok/not ok line per opcode file, then the pass rate. By default the
# subset committed in tests/data/x86-vectors (every opcode file, 32 of its
# 1,000 cases); HV_X86_VECTORS=DIR runs a full set instead (DIR holding
# 80286-real/, or the *.MOO.gz files themselves).
dir=$(cd "$(dirname "$0")" && pwd)
vec=$dir/../data/x86-vectors/80286-real
if [ -n "${HV_X86_VECTORS:-}" ]; then
	vec=$HV_X86_VECTORS
	[ -d "$vec/80286-real" ] && vec=$vec/80286-real
fi
bin=${BUILD:-build}/tests/emu-conformance
if ! ls "$vec"/*.MOO.gz > /dev/null 2>&1; then
	echo "not ok emu-conformance - no *.MOO.gz vectors in $vec"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "not ok emu-conformance - $bin not built"
	exit 0
fi
EMU_KNOWN=$dir/conformance-known.txt "$bin" "$vec"
exit 0
