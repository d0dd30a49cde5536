# hv-test: once
# hv-test: timeout=300
# libFuzzer over the tap, pcap and wifi-bridge backends (make fuzz-net-backends): frames
# from the NIC cut into pieces, frames from the host, the NIC refusing and
# calling rx_ready, with the fake core checking what the plugin passes on
# (tests/net/fuzz_backend.c). Seeds: an ARP request and a TSO-sized frame,
# bare and with a header. Artifacts: build/fuzz/artifacts.
set -u
runs=${HV_FUZZ_RUNS:-200000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-net-backends - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-net-backends > build/fuzz-net-backends.build.log 2>&1; then
	echo "not ok fuzz-net-backends - does not build: $(tail -3 build/fuzz-net-backends.build.log | tr '\n' ' ')"
	exit 0
fi
mkdir -p build/fuzz/artifacts
# op 0 (send) LEN16 frame; op 1 (from the host) LEN16 frame; 2 RC; 3
arp=ffffffffffff525400123456080600010800060400015254001234560ac801020000000000000ac80101
seed() { # MODE OPS...: one seed file from hex
	python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex("".join(sys.argv[1:])))' "$@"
}
for be in tap pcap wifi-bridge; do
	corpus=build/fuzz/net-$be-corpus
	mkdir -p "$corpus"
	seed 01 00 2a00 "$arp" 01 2a00 "$arp" > "$corpus/seed-bare"
	seed 00 00 3600 000000000000000000000000 "$arp" 01 3600 000000000000000000000000 "$arp" > "$corpus/seed-hdr"
	seed 03 02 01 01 2a00 "$arp" 03 02 00 03 > "$corpus/seed-pause"
	seed 04 00 ffff "$(printf '%04000d' 0)" > "$corpus/seed-big"
	log=build/fuzz-net-$be.log
	if build/fuzz/fuzz_$be -runs="$runs" -max_len=8192 -timeout=10 \
		-artifact_prefix=build/fuzz/artifacts/ "$corpus" > "$log" 2>&1; then
		echo "ok fuzz-$be ($(grep -o 'Done [0-9]* runs' "$log"), $(grep -o 'cov: [0-9]*' "$log" | tail -1))"
	else
		echo "not ok fuzz-$be - $(grep -m1 -E 'ERROR|SUMMARY|deadly' "$log")"
	fi
done
