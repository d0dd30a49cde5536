#!/bin/bash
# Guest instructions per second of accel=emu on a register loop and a
# memory loop (bench/emu/loop.asm), beside QEMU TCG and bochs when they are
# installed, as ratios. Each engine runs the loop twice (N and N/10
# iterations); the rate is the extra instructions over the extra CPU time,
# so BIOS and start-up costs cancel out.
#   bench/emu/run.sh [BUILD]   (default build)
set -u
cd "$(dirname "$0")/../.."
b=${1:-build}
hv=$PWD/$b/hv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
N_EMU=${N_EMU:-100000000} N_QEMU=${N_QEMU:-400000000} N_BOCHS=${N_BOCHS:-100000000}

secs() { # secs CMD...: CPU seconds (user + system) of CMD and its children
	# CPU time, not wall clock: this machine is shared, and every engine
	# here runs its guest on one thread
	local TIMEFORMAT='%3U %3S'
	{ time "$@" > /dev/null 2>&1 < /dev/null; } 2>&1 | awk '{ print $1 + $2 }'
}

best() { # best CMD...: the smallest of $REPS CPU-second figures of CMD
	local i t m=
	for ((i = 0; i < ${REPS:-3}; i++)); do
		t=$(secs "$@")
		if [ -z "$m" ] || [ "$(echo "$t < $m" | bc -l)" = 1 ]; then m=$t; fi
	done
	echo "$m"
}

build() { # build KIND ITER -> image path
	local img=$tmp/$1-$2.img def=-DREG
	[ "$1" = mem ] && def=-DMEM
	nasm -f bin "$def" -DITER="$2" -o "$img" bench/emu/loop.asm
	echo "$img"
}

run_hv() {
	cat > "$tmp/vm.ini" <<EOF
[vm]
name = bench
memory = 64M
accel = emu
kernel = $1
[device exit]
plugin = debug-exit
EOF
	HV_PLUGIN_PATH=$b/plugins "$hv" run -q "$tmp/vm.ini"
}

run_qemu() {
	qemu-system-x86_64 -accel tcg -display none -no-reboot -m 64 \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive file="$1",format=raw,if=floppy
}

run_bochs() {
	local fl=$tmp/floppy.img
	dd if=/dev/zero of="$fl" bs=1k count=1440 2> /dev/null
	dd if="$1" of="$fl" conv=notrunc 2> /dev/null
	cat > "$tmp/bochsrc" <<EOF
megs: 64
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=${BOCHS_VGABIOS:-/usr/share/seabios/vgabios-isavga.bin}
display_library: term
floppya: 1_44=$fl, status=inserted
boot: floppy
log: /dev/null
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
cpu: ips=4000000000
EOF
	# Debian's bochs has its debugger built in and stops before the first
	# instruction until told to continue (-rc); 2.7's sound mixer thread
	# aborts (fortify) unless the drivers are dummies; nogui is not built,
	# and the term display needs a tty. Give up after 120 s.
	echo c > "$tmp/cont.rc"
	TERM=xterm timeout 120 script -qec "bochs -q -f $tmp/bochsrc -rc $tmp/cont.rc" /dev/null
}

rate() { # rate ENGINE KIND N: guest instructions per second
	local big small tb ts
	big=$(build "$2" "$3")
	small=$(build "$2" $(($3 / 10)))
	# the least of REPS runs each: the machine may be shared
	tb=$(best "run_$1" "$big")
	ts=$(best "run_$1" "$small")
	# a run that hit the timeout or failed gives no rate
	if [ "$(echo "$tb > 100 || $tb <= $ts" | bc -l)" = 1 ]; then
		echo 0
		return
	fi
	echo "6 * ($3 - $3 / 10) / ($tb - $ts)" | bc -l
}

for kind in reg mem; do
	e=$(rate hv "$kind" "$N_EMU")
	line=$(printf "%s loop: emu %.0f M instr/s" "$kind" "$(echo "$e / 1000000" | bc -l)")
	if command -v qemu-system-x86_64 > /dev/null; then
		q=$(rate qemu "$kind" "$N_QEMU")
		line+=$(printf ", qemu-tcg %.0f M (emu/qemu %.3f)" "$(echo "$q / 1000000" | bc -l)" \
			"$(echo "$e / $q" | bc -l)")
	fi
	if command -v bochs > /dev/null && [ -z "${NO_BOCHS:-}" ]; then
		x=$(rate bochs "$kind" "$N_BOCHS")
		if [ "$x" = 0 ]; then
			line+=", bochs: no result (see run_bochs)"
		else
			line+=$(printf ", bochs %.0f M (emu/bochs %.2f)" \
				"$(echo "$x / 1000000" | bc -l)" "$(echo "$e / $x" | bc -l)")
		fi
	fi
	echo "$line"
done
