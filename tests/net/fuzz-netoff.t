# hv-test: once
# hv-test: timeout=400
# libFuzzer over core/netoff (make fuzz-netoff): header checks, checksum
# completion and segmentation of random frames cut into random iovecs,
# every produced frame re-verified (tests/net/fuzz_netoff.c). Seeds:
# scapy's vectors (tests/net/vectors.py), whole and cut in 7-byte pieces.
# Artifacts: build/fuzz/artifacts.
set -u
runs=${HV_FUZZ_RUNS:-150000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-netoff - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-netoff > build/fuzz-netoff.build.log 2>&1; then
	echo "not ok fuzz-netoff - does not build: $(tail -3 build/fuzz-netoff.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/netoff-corpus
mkdir -p "$corpus" build/fuzz/artifacts
if ! /usr/bin/python3 tests/net/vectors.py > build/fuzz/netoff-vectors.txt; then
	echo "not ok fuzz-netoff - tests/net/vectors.py failed (python3-scapy missing?)"
	exit 0
fi
/usr/bin/python3 - build/fuzz/netoff-vectors.txt "$corpus" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
name = None
for line in open(src):
    f = line.split()
    if f[0] == "case":
        name = f[1]
    elif f[0] in ("in", "bad"):
        hx = f[-1]
        tag = name if f[0] == "in" else "bad-" + f[1]
        if len(hx) // 2 > 20000:
            continue  # keep the seeds small: the fuzzer grows them
        for step in (0, 7):
            open("%s/%s-%d" % (out, tag, step), "wb").write(bytes([step]) + bytes.fromhex(hx))
PY
if build/fuzz/fuzz_netoff -runs="$runs" -max_len=20000 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" > build/fuzz-netoff.log 2>&1; then
	echo "ok fuzz-netoff ($(grep -o 'Done [0-9]* runs' build/fuzz-netoff.log), $(grep -o 'cov: [0-9]*' build/fuzz-netoff.log | tail -1))"
else
	echo "not ok fuzz-netoff - $(grep -m1 -E 'ERROR|SUMMARY|deadly' build/fuzz-netoff.log)"
fi
