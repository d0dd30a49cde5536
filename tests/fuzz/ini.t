# hv-test: once
# hv-test: timeout=200
# The INI loader under libFuzzer for a bounded number of runs, seeded with
# every INI file in the tree.
set -u
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-ini - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-ini > build/fuzz-ini.build.log 2>&1; then
	echo "not ok fuzz-ini - does not build: $(tail -3 build/fuzz-ini.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/ini-corpus
mkdir -p "$corpus" build/fuzz/artifacts
# inputs that once crashed the loader (tests/fuzz/ini-regress/) run first,
# each once; artifacts of new finds land under build/, never in the tree
regress=(tests/fuzz/ini-regress/[!R]*)
if build/fuzz/fuzz_ini -artifact_prefix=build/fuzz/artifacts/ "${regress[@]}" \
	> build/fuzz-ini-regress.log 2>&1; then
	echo "ok fuzz-ini-regressions (${#regress[@]} inputs)"
else
	echo "not ok fuzz-ini-regressions - $(grep -m1 -E 'ERROR|SUMMARY' build/fuzz-ini-regress.log)"
fi
cp examples/*.ini "$corpus/" 2>/dev/null
printf '[vm]\nkernel = /bin/sh\nmemory = 1G\n[device a]\nplugin = x\n' > "$corpus/seed1.ini"
# a long kernel command line, then more keys (the reader takes lines whole)
printf '[vm]\nkernel = /bin/sh\ncmdline = %s\nmemory = 1G\n' "$(printf 'console=ttyS0 %.0s' $(seq 100))" \
	> "$corpus/seed2.ini"
if build/fuzz/fuzz_ini -runs=200000 -max_len=2048 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" \
	> build/fuzz-ini.log 2>&1; then
	echo "ok fuzz-ini ($(grep -o 'Done [0-9]* runs' build/fuzz-ini.log))"
else
	echo "not ok fuzz-ini - $(grep -m1 -E 'ERROR|SUMMARY' build/fuzz-ini.log)"
fi
