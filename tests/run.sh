#!/usr/bin/env bash
# hv's test runner: every unit-test binary and every tests/*/*.t script, in
# the normal build and again in the ASan/UBSan build. Each test prints one
# line per case, "ok NAME" or "not ok NAME - why"; a test that exits non-zero
# or prints no case at all counts as a failure too. The last line is
# "N passed, N failed"; the exit status is 0 only when nothing failed.
#
# A .t script may say in its first lines:
#   # hv-test: once          run in the normal build only (slow tests)
#   # hv-test: timeout=N     seconds before it is killed (default 300)
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0
failed=()
builds=(build build-san)
[ -n "${HV_TEST_ONLY_SAN:-}" ] && builds=(build-san)
[ -n "${HV_TEST_ONLY:-}" ] && builds=("$HV_TEST_ONLY")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log_dir=build/test-logs
mkdir -p "$log_dir"

# run_one LABEL TIMEOUT CMD...: count its ok / not ok lines
run_one() {
	local label=$1 limit=$2 out rc n_ok n_fail
	shift 2
	out=$(timeout -s KILL "$limit" "$@" 2> "$log_dir/${label//\//_}.stderr")
	rc=$?
	n_ok=$(grep -c '^ok ' <<< "$out")
	n_fail=$(grep -c '^not ok ' <<< "$out")
	grep -E '^(ok |not ok |# )' <<< "$out" | sed "s|^|[$label] |"
	while IFS= read -r l; do
		failed+=("[$label] $l")
	done < <(grep '^not ok ' <<< "$out")
	if [ "$rc" -ne 0 ]; then
		echo "not ok [$label] exited with status $rc (stderr: $log_dir/${label//\//_}.stderr)"
		tail -5 "$log_dir/${label//\//_}.stderr" | sed 's/^/#   /'
		n_fail=$((n_fail + 1))
		failed+=("[$label] exited with status $rc")
	elif [ $((n_ok + n_fail)) -eq 0 ]; then
		echo "not ok [$label] printed no test results"
		n_fail=$((n_fail + 1))
		failed+=("[$label] printed no test results")
	fi
	pass=$((pass + n_ok))
	fail=$((fail + n_fail))
}

for b in "${builds[@]}"; do
	if [ ! -x "$b/hv" ]; then
		echo "not ok [$b] not built (run make test)"
		fail=$((fail + 1))
		failed+=("[$b] not built")
		continue
	fi
	export BUILD=$b HV=$b/hv HV_PLUGIN_PATH=$b/plugins
	for t in "$b"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "$b/$(basename "$t")" 300 "$t"
	done
	for t in tests/*/*.t; do
		[ -f "$t" ] || continue
		head=$(head -5 "$t")
		if grep -q 'hv-test: once' <<< "$head" && [ "$b" != build ] &&
			[ -z "${HV_TEST_ONLY:-}" ]; then
			continue
		fi
		limit=$(sed -n 's/.*hv-test: timeout=\([0-9]*\).*/\1/p' <<< "$head")
		name=${t#tests/}
		run_one "$b/${name%.t}" "${limit:-300}" bash "$t"
	done
done
# The failures again, just above the count, so a log's tail names them.
for l in "${failed[@]}"; do
	echo "# failed: $l"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
