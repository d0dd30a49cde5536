# hv-test: once
# hv-test: timeout=200
# libFuzzer over the switch's forwarding decision (make fuzz-switch):
# random ports, VLANs, links and frames; the target aborts on a frame
# sent back out of its ingress port, to a port that is down or of another
# VLAN, or a MAC table over its limits. Artifacts: build/fuzz/artifacts.
set -u
runs=${HV_FUZZ_RUNS:-300000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-switch - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-switch > build/fuzz-switch.build.log 2>&1; then
	echo "not ok fuzz-switch - does not build: $(tail -3 build/fuzz-switch.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/switch-corpus
mkdir -p "$corpus" build/fuzz/artifacts
# limits byte; a broadcast from port 0 (src 1), a unicast back from port 1
# (dst 1, src 2), a tagged frame from trunk port 2, time passing, a sweep
printf '\x13\x00\x00\x01\x30\x00\x01\x00\x01\x00\x30\x01\x02\x00\x02\x04\x30\x03\x04\x00\x0a\x06\xff\x07' > "$corpus/seed-learn"
if build/fuzz/fuzz_switch -runs="$runs" -max_len=512 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" > build/fuzz-switch.log 2>&1; then
	echo "ok fuzz-switch ($(grep -o 'Done [0-9]* runs' build/fuzz-switch.log), $(grep -o 'cov: [0-9]*' build/fuzz-switch.log | tail -1))"
else
	echo "not ok fuzz-switch - $(grep -m1 -E 'ERROR|SUMMARY|deadly' build/fuzz-switch.log)"
fi
