#!/bin/bash
# Disk benchmark (not part of the test suite): hv's VHDX against qemu-img /
# qemu-io and against the raw file, printed side by side with ratios.
#   bench/disk/run.sh [DIR] [SECONDS]   DIR: a disk-backed directory
# Needs a built tree (make; make build/tests/disk/disktool) and qemu-utils.
set -e
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
DIR=${1:-/var/tmp}/hv-bench.$$
SECS=${2:-5}
export HV_PLUGIN_PATH=$ROOT/$BUILD/plugins
HVIMG=("$ROOT/$BUILD/hv" img)
[ -x "$ROOT/$BUILD/hv" ] || HVIMG=("$ROOT/$BUILD/tests/disk/hvimg" img)
TOOL=$ROOT/$BUILD/tests/disk/disktool
mkdir -p "$DIR"; trap 'rm -rf "$DIR"' EXIT
t() { local s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }

echo "# 1 GiB of random data in $DIR ($(df -T "$DIR" | awk 'NR==2{print $2}')), $(nproc) CPUs"
head -c 1G /dev/urandom > "$DIR/src.raw"; sync
a=$(t "${HVIMG[@]}" convert -O vhdx "$DIR/src.raw" "$DIR/hv.vhdx")
b=$(t qemu-img convert -f raw -O vhdx "$DIR/src.raw" "$DIR/q.vhdx")
c=$(t "${HVIMG[@]}" convert -O raw "$DIR/hv.vhdx" "$DIR/hv.raw")
d=$(t qemu-img convert -f vhdx -O raw "$DIR/q.vhdx" "$DIR/q.raw")
cmp "$DIR/src.raw" "$DIR/hv.raw"
printf '%-34s %10s %10s %8s\n' "convert (seconds)" hv qemu-img "qemu/hv"
printf '%-34s %10.2f %10.2f %8s\n' "raw -> vhdx 1 GiB" $a $b $(ratio $b $a)
printf '%-34s %10.2f %10.2f %8s\n' "vhdx -> raw 1 GiB" $c $d $(ratio $d $c)
rm -f "$DIR/hv.raw" "$DIR/q.raw" "$DIR/q.vhdx"

# I/O through the plugin (disktool: QD32, libaio/O_DIRECT) on the VHDX we
# made, vs the raw file through the raw plugin, vs qemu on the same VHDX.
declare -A H R
eval "$("$TOOL" bench "$DIR/hv.vhdx" $SECS | tr ' ' '\n' | sed 's/^/H[/; s/=/]=/')"
eval "$("$TOOL" bench "$DIR/src.raw" $SECS | tr ' ' '\n' | sed 's/^/R[/; s/=/]=/')"
# qemu: sequential with qemu-img bench, random with a qemu-io aio script
N=40000
q_seq() { # write? -> MB/s
	local s=$(date +%s.%N)
	qemu-img bench -f vhdx -t none -i native -d 32 -s 1M -c 2048 $1 "$DIR/hv.vhdx" >/dev/null
	echo "scale=0; 2048 / ($(date +%s.%N) - $s)" | bc
}
q_rand() { # read|write -> IOPS
	python3 -c "
import random
random.seed(1)
for i in range($N): print('aio_$1 -q %d 4k' % (random.randrange(262144) * 4096))
print('aio_flush')" > "$DIR/q.cmds"
	local s=$(date +%s.%N)
	qemu-io -f vhdx -t none -i native "$DIR/hv.vhdx" < "$DIR/q.cmds" >/dev/null
	echo "scale=0; $N / ($(date +%s.%N) - $s)" | bc
}
QSW=$(q_seq -w); QSR=$(q_seq ""); QRW=$(q_rand write); QRR=$(q_rand read)
printf '\n%-22s %10s %10s %10s %8s %8s\n' "I/O (QD32)" "hv vhdx" "raw file" "qemu vhdx" "hv/raw" "hv/qemu"
row() { printf '%-22s %10s %10s %10s %8s %8s\n' "$1" $2 $3 $4 $(ratio $2 $3) $(ratio $2 $4); }
row "4K rand read IOPS" ${H[randread_iops]} ${R[randread_iops]} $QRR
row "4K rand write IOPS" ${H[randwrite_iops]} ${R[randwrite_iops]} $QRW
row "seq read MB/s (1M)" ${H[seqread_mbs]} ${R[seqread_mbs]} $QSR
row "seq write MB/s (1M)" ${H[seqwrite_mbs]} ${R[seqwrite_mbs]} $QSW
