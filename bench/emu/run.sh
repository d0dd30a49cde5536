#!/bin/bash
# Guest instructions per second of accel=emu on a register loop and a
# memory loop (bench/emu/loop.asm), beside QEMU TCG and bochs, as ratios;
# then Debian's kernel to its shell beside QEMU TCG (bench/emu/linux.sh).
# Each engine runs the loop twice (N and N/10 iterations); the rate is the
# extra instructions over the extra CPU time, so BIOS and start-up costs
# cancel out. A peer that is missing, crashed, timed out or did not run
# the loop prints FAILED (why), never a rate, and the script exits 1.
#   bench/emu/run.sh [BUILD]   (default build; NO_BOCHS=1, NO_LINUX=1)
set -u
cd "$(dirname "$0")/../.."
b=${1:-build}
hv=$PWD/$b/hv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
N_EMU=${N_EMU:-100000000} N_QEMU=${N_QEMU:-400000000} N_BOCHS=${N_BOCHS:-100000000}

secs() { # secs CMD...: CPU seconds (user + system) of CMD and its children
	# CPU time, not wall clock: this machine is shared, and every engine
	# here runs its guest on one thread. CMD's output goes to $tmp/out,
	# its exit status to $tmp/status.
	local TIMEFORMAT='%3U %3S'
	{ time { "$@" > "$tmp/out" 2>&1 < /dev/null; echo $? > "$tmp/status"; }; } 2>&1 |
		awk '{ print $1 + $2 }'
}

# ran_ENGINE: 0 when the last run ended the way the loop ends, through
# its power-off port, not by crashing, a timeout or a missing piece
ran_hv() { [ "$(cat "$tmp/status")" = 0 ]; }
ran_qemu() { [ "$(cat "$tmp/status")" = 1 ]; } # isa-debug-exit: (0 << 1) | 1
ran_bochs() { grep -q "Shutdown port: shutdown requested" "$tmp/out"; }

why() { # the last run's own words: bochs's exit message, else its last output
	local m
	m=$(tr -d '\r' < "$tmp/out" | grep -a -A1 "exiting with the following message" | tail -n 1)
	[ -n "$m" ] || m=$(tail -c 300 "$tmp/out" | tr -d '\r' | tr -s '\n' ' ' | tail -c 120)
	echo "$m"
}

best() { # best ENGINE IMAGE: the least of $REPS CPU-second figures, or FAILED
	local i t m=
	for ((i = 0; i < ${REPS:-3}; i++)); do
		t=$(secs "run_$1" "$2")
		if ! "ran_$1"; then
			echo "FAILED (exit status $(cat "$tmp/status"): $(why))"
			return
		fi
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

rate() { # rate ENGINE KIND N: guest instructions per second, or FAILED (why)
	local big small tb ts
	big=$(build "$2" "$3")
	small=$(build "$2" $(($3 / 10)))
	# the least of REPS runs each: the machine may be shared
	tb=$(best "$1" "$big")
	case $tb in FAILED*) echo "$tb"; return ;; esac
	ts=$(best "$1" "$small")
	case $ts in FAILED*) echo "$ts"; return ;; esac
	# N - N/10 iterations must cost time: a run that ended at once is
	# not a rate (it was seen as "bochs 90000 M")
	if [ "$(echo "$tb - $ts < 0.05 || $tb < 1.3 * $ts" | bc -l)" = 1 ]; then
		echo "FAILED ($3 iterations took $tb s, $(($3 / 10)) took $ts s: the loop did not run)"
		return
	fi
	echo "6 * ($3 - $3 / 10) / ($tb - $ts)" | bc -l
}

# peer ENGINE KIND N EMU_RATE: ", ENGINE R M (emu/ENGINE X)" or FAILED
peer() {
	local x
	x=$(rate "$1" "$2" "$3")
	case $x in
	FAILED*) printf ", %s %s" "$1" "$x" ;;
	*) printf ", %s %.0f M (emu/%s %.3f)" "$1" "$(echo "$x / 1000000" | bc -l)" \
		"$1" "$(echo "$4 / $x" | bc -l)" ;;
	esac
}

out=
for kind in reg mem; do
	e=$(rate hv "$kind" "$N_EMU")
	case $e in
	FAILED*) line="$kind loop: emu $e" ;;
	*)
		line=$(printf "%s loop: emu %.0f M instr/s" "$kind" "$(echo "$e / 1000000" | bc -l)")
		if command -v qemu-system-x86_64 > /dev/null; then
			line+=$(peer qemu "$kind" "$N_QEMU" "$e")
		else
			line+=", qemu FAILED (qemu-system-x86_64 is not installed)"
		fi
		if [ -n "${NO_BOCHS:-}" ]; then
			:
		elif command -v bochs > /dev/null; then
			line+=$(peer bochs "$kind" "$N_BOCHS" "$e")
		else
			line+=", bochs FAILED (bochs is not installed)"
		fi ;;
	esac
	echo "$line"
	out+="$line"
done
echo "(goal: the register loop at >= 0.15x QEMU TCG's rate)"
# Linux to its shell beside QEMU TCG (NO_LINUX=1 skips it)
if [ -z "${NO_LINUX:-}" ]; then
	line=$(bench/emu/linux.sh "$b")
	echo "$line"
	out+="$line"
fi
# a peer that did not run fails the benchmark
case $out in *FAILED*) exit 1 ;; esac
exit 0
