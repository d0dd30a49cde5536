#!/bin/bash
# hv-test: once
# hv-test: timeout=300
# libFuzzer over the SCSI command path (make fuzz-scsi): a bounded run
# from seeds holding valid commands of every family (tests/scsi/seeds.py).
# Skipped without clang.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
RUNS=${HV_FUZZ_RUNS:-200000}
ok() { echo "ok $1"; }
notok() { echo "not ok $1 - $2"; }
if ! command -v clang >/dev/null; then ok "fuzz-scsi # skip: no clang"; exit 0; fi
if ! out=$(make -s fuzz-scsi 2>&1); then notok fuzz-scsi-build "$(echo "$out" | tail -1)"; exit 0; fi
ok fuzz-scsi-build
W=$(mktemp -d /tmp/hvscsi-fuzz.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/corpus" build-fuzz/artifacts
python3 tests/scsi/seeds.py "$W/corpus"
n=$(ls "$W/corpus" | wc -l)
[ "$n" -ge 9 ] && ok "fuzz-scsi-seeds-$n" || notok fuzz-scsi-seeds "only $n"
if out=$(build-fuzz/fuzz-scsi -runs="$RUNS" -max_len=8192 -max_total_time=60 \
		-artifact_prefix="build-fuzz/artifacts/scsi-" "$W/corpus" 2>&1); then
	ok "fuzz-scsi-$RUNS-runs"
else
	notok "fuzz-scsi-$RUNS-runs" "$(echo "$out" | grep -m1 -E 'ERROR|SUMMARY|deadly')"
fi
exit 0
