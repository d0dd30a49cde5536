#!/bin/bash
# Debian's kernel to its shell, hv accel=emu beside QEMU TCG: the same
# kernel (/boot/vmlinuz-*, as tests/emu/linux.t) and the same busybox
# initramfs (scripts/mkinitramfs.sh, whose run script prints a marker and
# powers off), 1 vCPU and 256 MiB each. hv boots it as PVH (the default
# under accel=emu: the host unpacks the kernel), QEMU as a bzImage on -M pc.
# The figure is the wall time from start to the marker on the console,
# best of $REPS (2); the goal is hv within 2x of TCG.
#   bench/emu/linux.sh [BUILD]   (default build)
# A run that does not show the marker (missing, crashed, timed out after
# $LIMIT s) prints FAILED (why) instead of a time.
set -u
cd "$(dirname "$0")/../.."
b=${1:-build}
hv=$PWD/$b/hv
reps=${REPS:-2} limit=${LIMIT:-300}
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
mark=HV-BENCH-SHELL

fail() { echo "linux boot: FAILED ($*)"; exit 1; }
[ -r "$kernel" ] || fail "no readable /boot/vmlinuz-* (linux-image-amd64)"
printf '#!/bin/sh\necho %s\n' "$mark" > "$tmp/run.sh"
scripts/mkinitramfs.sh "$tmp/initrd.gz" --run "$tmp/run.sh" > "$tmp/mk.err" 2>&1 ||
	fail "mkinitramfs.sh: $(tail -n 1 "$tmp/mk.err")"

cat > "$tmp/vm.ini" <<EOF
[vm]
name = bench-linux
memory = 256M
cpus = 1
accel = emu
kernel = $kernel
initrd = $tmp/initrd.gz
cmdline = console=ttyS0 panic=-1
[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial
[console serial]
plugin = stdio
EOF

# exec: the background job is the engine itself, so kill reaches it
run_hv() { HV_PLUGIN_PATH=$b/plugins exec "$hv" run "$tmp/vm.ini"; }
run_qemu() {
	exec qemu-system-x86_64 -accel tcg -M pc -cpu qemu64 -m 256M -smp 1 \
		-nographic -no-reboot -kernel "$kernel" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 panic=-1"
}

# cpu PID: CPU seconds (user + system, all threads) PID has used
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# once ENGINE: "WALL CPU" seconds from start to the marker, or "FAILED (why)"
once() {
	local out=$tmp/$1.out start now c
	: > "$out"
	start=$(date +%s.%N)
	"run_$1" < /dev/null > "$out" 2> "$tmp/$1.err" &
	pid=$!
	while ! grep -q "$mark" "$out"; do
		if ! kill -0 "$pid" 2> /dev/null; then
			wait "$pid"
			echo "FAILED (exited with status $? before the marker:" \
				"$(tail -c 200 "$tmp/$1.err" "$out" | tr -s '\n' ' ' | tail -c 160))"
			pid=
			return
		fi
		now=$(date +%s.%N)
		if [ "$(echo "$now - $start > $limit" | bc -l)" = 1 ]; then
			kill -9 "$pid"
			wait "$pid" 2> /dev/null
			pid=
			echo "FAILED (no marker within $limit s)"
			return
		fi
		sleep 0.05
	done
	now=$(date +%s.%N)
	c=$(cpu "$pid")
	kill -9 "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	pid=
	echo "$(echo "$now - $start" | bc -l) $c"
}

best() { # best ENGINE: "WALL CPU" of the least wall time of $reps, or FAILED
	local i t m=
	for ((i = 0; i < reps; i++)); do
		t=$(once "$1")
		case $t in FAILED*) echo "$t"; return ;; esac
		if [ -z "$m" ] || [ "$(echo "${t% *} < ${m% *}" | bc -l)" = 1 ]; then m=$t; fi
	done
	echo "$m"
}

e=$(best hv)
case $e in
FAILED*) line="linux boot: emu $e" ;;
*) line=$(printf "linux boot: emu %.1f s (%s s CPU)" "${e% *}" "${e#* }") ;;
esac
if ! command -v qemu-system-x86_64 > /dev/null; then
	q="FAILED (qemu-system-x86_64 is not installed)"
else
	q=$(best qemu)
fi
case $q in
FAILED*) line+=", qemu-tcg $q" ;;
*)
	line+=$(printf ", qemu-tcg %.1f s (%s s CPU)" "${q% *}" "${q#* }")
	case $e in FAILED*) ;; *)
		line+=$(printf " (emu/qemu %.2fx; goal: within 2x)" "$(echo "${e% *} / ${q% *}" | bc -l)") ;;
	esac ;;
esac
echo "$line ($(basename "$kernel"), wall clock to the shell, best of $reps)"
case "$e$q" in *FAILED*) exit 1 ;; esac
