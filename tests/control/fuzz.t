# hv-test: once
# hv-test: timeout=200
# libFuzzer over the control protocol's parser (make fuzz-ctl), a bounded
# run seeded with every command, an over-long line, CRLF and control bytes.
# Artifacts: build/fuzz/artifacts.
set -u
runs=${HV_FUZZ_RUNS:-200000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-ctl - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-ctl > build/fuzz-ctl.build.log 2>&1; then
	echo "not ok fuzz-ctl - does not build: $(tail -3 build/fuzz-ctl.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/ctl-corpus
mkdir -p "$corpus" build/fuzz/artifacts
printf '\x01set nic0 link off\nget nic0 link\ninfo\nblob abc\nblob abc\nblob a b\n' > "$corpus/seed-cmds"
printf '\x00get a b\r\n\n  \t \nmany a b c d e f g h i j k l m n o\nmany %s\n' \
	"$(seq -s ' ' 20)" > "$corpus/seed-words"
{ printf '\x05get '; head -c 5000 /dev/zero | tr '\0' x; printf '\ninfo\nset\x01 a b c\n'; } \
	> "$corpus/seed-long"
if build/fuzz/fuzz_ctl -runs="$runs" -max_len=12000 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" > build/fuzz-ctl.log 2>&1; then
	echo "ok fuzz-ctl ($(grep -o 'Done [0-9]* runs' build/fuzz-ctl.log))"
else
	echo "not ok fuzz-ctl - $(grep -m1 -E 'ERROR|SUMMARY|deadly' build/fuzz-ctl.log)"
fi
