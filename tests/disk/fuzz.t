#!/bin/bash
# hv-test: once
# libFuzzer over the disk plugins (make fuzz-disk), a bounded run from a
# seed corpus of valid small images: ours, QEMU's, the samples (one with a
# dirty log). Skipped without clang.
. "$(dirname "$0")/lib.sh"
RUNS=${HV_FUZZ_RUNS:-800}
if ! command -v clang >/dev/null; then ok "fuzz-disk # skip: no clang"; exit 0; fi
if ! out=$(make -s -C "$ROOT" fuzz-disk 2>&1); then notok fuzz-disk-build "$(echo "$out" | tail -1)"; exit 0; fi
ok fuzz-disk-build
C=$DISK/corpus; mkdir -p "$C"
seed() { python3 tests/disk/sparse_seed.py "$1" "$C/$(basename "$1").seed" 40; }
head -c $((3 << 20)) /dev/urandom > "$DISK/s.raw"
img convert -O vhdx --block-size 1M "$DISK/s.raw" "$DISK/a.vhdx" && seed "$DISK/a.vhdx"
img convert -O vhdx --logical-sector 4096 --block-size 1M "$DISK/s.raw" "$DISK/b.vhdx" && seed "$DISK/b.vhdx"
img create -b "$DISK/a.vhdx" "$DISK/c.vhdx" >/dev/null && "$TOOL" write "$DISK/c.vhdx" 4096 4096 1 && seed "$DISK/c.vhdx"
img convert -O vhd "$DISK/s.raw" "$DISK/d.vhd" && seed "$DISK/d.vhd"
if have_qemu; then qemu-img convert -O vhdx -o block_size=1M "$DISK/s.raw" "$DISK/q.vhdx" && seed "$DISK/q.vhdx"; fi
S=$(samples); seed "$S/iotest-dirtylog-10G-4M.vhdx"; seed "$S/hyperv2012r2-dynamic.vhd"
n=$(ls "$C" | wc -l)
[ "$n" -ge 6 ] && ok "fuzz-disk-seeds-$n" || notok fuzz-disk-seeds "only $n"
if out=$("$ROOT/build-fuzz/fuzz-disk" -runs=$RUNS -max_len=300000 -max_total_time=60 \
		-artifact_prefix="$DISK/" "$C" 2>&1); then
	ok "fuzz-disk-$RUNS-runs"
else
	notok "fuzz-disk-$RUNS-runs" "$(echo "$out" | grep -m1 -E 'ERROR|SUMMARY')"
	ls "$DISK"/crash-* 2>/dev/null | head -1 | xargs -r -I{} cp {} "$ROOT/build-fuzz/"
fi
exit 0
