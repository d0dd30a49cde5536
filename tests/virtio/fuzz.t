# hv-test: once
# hv-test: timeout=200
# libFuzzer over libhv-virtio (make fuzz-virtio): the transport registers
# and the split-ring walker against fake guest RAM, a bounded run from a
# seed of good chains (direct and indirect); then virtio-blk's request
# parsing on it (make fuzz-virtio-blk) with a fake disk that aborts on any
# request the core would refuse. Artifacts: build/fuzz/artifacts.
set -u
runs=${HV_FUZZ_RUNS:-200000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-virtio - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-virtio fuzz-virtio-blk > build/fuzz-virtio.build.log 2>&1; then
	echo "not ok fuzz-virtio - does not build: $(tail -3 build/fuzz-virtio.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/virtio-corpus
mkdir -p "$corpus" build/fuzz/artifacts
# queue size 16, FLUSH-ish features; desc 0 -> 1 -> 2 (readable, two
# writable), offer head 0, notify, push; then an indirect chain at desc 3
# whose table (at 0x4000) holds two entries, offered and notified
cmd() { printf "$(printf '\\x%02x' "$@")"; }
{
	cmd 4 0
	cmd 1 0 0 0x30 16 0x40 0x02 0   # desc 0: 0x3000+16, NEXT, next 1
	cmd 1 1 0 0x31 0 0xc2 0x04 0    # desc 1: 0x3100+512, NEXT|WRITE, next 2
	cmd 1 2 0x20 0x31 1 0x80 0 0    # desc 2: 0x3120+1, WRITE
	cmd 2 0 0 0 0 0 0 0
	cmd 0 0 0 0 0 0 0 0
	cmd 4 0 0 0 0 0 0 0
	cmd 1 3 0 0x04 32 0 1 0         # desc 3: 0x4000+32, INDIRECT
	cmd 3 0 0 0x10 0 0x30 0 0       # table[0].addr = 0x3000
	cmd 3 2 0 0x10 16 0 0 0         # table[0].len = 16
	cmd 3 3 0 0x10 1 0 1 0          # flags NEXT, next 1
	cmd 3 4 0 0x10 0 0x31 0 0       # table[1].addr = 0x3100
	cmd 3 6 0 0x10 64 0 0 0         # len 64
	cmd 3 7 0 0x10 2 0 0 0          # flags WRITE
	cmd 2 3 0 0 0 0 0 0
	cmd 0 0 0 0 0 0 0 0
	cmd 5 0 0 0 0 0 0 0
} > "$corpus/seed-chains"
if build/fuzz/fuzz_virtq -runs="$runs" -max_len=1024 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" > build/fuzz-virtio.log 2>&1; then
	echo "ok fuzz-virtio ($(grep -o 'Done [0-9]* runs' build/fuzz-virtio.log), $(grep -o 'cov: [0-9]*' build/fuzz-virtio.log | tail -1))"
else
	echo "not ok fuzz-virtio - $(grep -m1 -E 'ERROR|SUMMARY' build/fuzz-virtio.log)"
fi

# virtio-blk: a read of sector 4 into 0x3100 (header at 0x3000, status at
# 0x3400) on queue 0, completed; then the same as a write, and a GET_ID
le32() { printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
# shellcheck disable=SC2046
blk_seed() {
	printf '\x00'
	cmd 1 0 0x00 0x03 $(le32 $((16 | 1 << 14 | 1 << 17)))
	cmd 1 1 0x10 0x03 $(le32 $((512 | $2 << 14 | 2 << 17)))
	cmd 1 2 0x40 0x03 $(le32 $((1 | 2 << 14)))
	cmd 3 0 0x00 0x0c $(le32 "$1")
	cmd 3 0 0x02 0x0c $(le32 4)
	cmd 2 0 0 0 0 0 0 0
	cmd 0 0 0 0 0 0 0 0
	cmd 4 0 0 0 0 0 0 0
}
bcorpus=build/fuzz/virtio-blk-corpus
mkdir -p "$bcorpus"
blk_seed 0 3 > "$bcorpus/seed-read"
blk_seed 1 1 > "$bcorpus/seed-write"
blk_seed 8 3 > "$bcorpus/seed-get-id"
blk_seed 11 1 > "$bcorpus/seed-discard"
bruns=$((runs / 4))
if build/fuzz/fuzz_blk -runs="$bruns" -max_len=1024 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$bcorpus" > build/fuzz-virtio-blk.log 2>&1; then
	echo "ok fuzz-virtio-blk ($(grep -o 'Done [0-9]* runs' build/fuzz-virtio-blk.log), $(grep -o 'cov: [0-9]*' build/fuzz-virtio-blk.log | tail -1))"
else
	echo "not ok fuzz-virtio-blk - $(grep -m1 -E 'ERROR|SUMMARY|deadly' build/fuzz-virtio-blk.log)"
fi
