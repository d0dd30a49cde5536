#!/bin/bash
# hv-test: timeout=300
# The VGA's PCI/DISPI half end to end with a bare-metal guest
# (tests/guests/vga-dispi.asm: PCI IDs and BARs, DISPI through the VBE
# ports and BAR2, EDID, GETCAPS, absurd modes clamped or refused, then a
# 1600x1200x32 picture), on the interpreter and, when it runs here, on
# the host's KVM: every check the guest prints, then a screenshot through
# the control socket decoded by tests/display/vgacheck.py (zlib + struct)
# must hold the guest's picture pixel for pixel. A frontend fixture
# (test_view) logs what the display reports: the first update after the
# mode switch is the whole screen, and once the guest changes one pixel
# of line 600 (on a byte the test sends) the damage is that line's rows,
# never the whole screen.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
b=$root/${BUILD:-build}
hv=$b/hv
guest=$b/guests/vga-dispi.bin
tmp=$(mktemp -d)
pid=
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
want='VGA: 1234:1111 class 0300 rev 2, subsystem 1af4:1100, BAR0 prefetchable
DISPI: ID 0xb0c5, 16 MiB, GETCAPS 1600x1200x32
BAR2: EDID header and checksum, DISPI and QEMU extension registers
DISPI: 1600x1200x32 enabled, frame cleared
DISPI: absurd modes refused, offsets and widths clamped
READY'

updates() { grep -a 'view.*update: ' "$1/err" | sed 's/.*update: //; s/ (n.*//'; }

# damage_check ACCEL DIR: the first update after the 1600x1200 surface is
# the whole screen; after the one-pixel change only rows around line 600
damage_check() {
	local accel=$1 d=$2 first last before after n
	# the guest switched modes many times: the last switch counts
	n=$(grep -a -n 'view.*surface: ' "$d/err" | tail -1 | cut -d: -f1)
	first=$(tail -n +"${n:-1}" "$d/err" | grep -a -m1 'update: ' |
		sed 's/.*update: //; s/ (n.*//')
	last=$(grep -a 'view.*surface: ' "$d/err" | tail -1 | sed 's/.*surface: //; s/ (n.*//')
	if [ "$last" != "1600x1200 format 1 stride 6400" ]; then
		echo "not ok vga-dispi-$accel-damage-full-after-mode - last surface '$last'"
	elif [ "$first" = "0 0 1600 1200" ]; then
		echo "ok vga-dispi-$accel-damage-full-after-mode"
	else
		echo "not ok vga-dispi-$accel-damage-full-after-mode - first update '$first'"
	fi
	# quiet first: the fill's damage is all reported
	before=-1
	for _ in $(seq 50); do
		n=$(updates "$d" | wc -l)
		[ "$n" = "$before" ] && break
		before=$n
		sleep 0.3
	done
	echo x >&4
	for _ in $(seq 100); do grep -q LINE "$d/out" && break; sleep 0.1; done
	for _ in $(seq 50); do
		after=$(updates "$d" | tail -n +$((before + 1)))
		[ -n "$after" ] && break
		sleep 0.1
	done
	sleep 0.5
	after=$(updates "$d" | tail -n +$((before + 1)))
	# line 600 is bytes 3840000..3846399: pages 937 and 938 (rows 599-601)
	if [ -n "$after" ] && awk '{ if ($1 != 0 || $3 != 1600 || $2 > 600 || $2 + $4 <= 600 || $4 > 3) bad = 1 } END { exit bad }' <<< "$after"; then
		echo "ok vga-dispi-$accel-damage-one-line - $(echo $after)"
	else
		echo "not ok vga-dispi-$accel-damage-one-line - updates after the change: '$(echo $after)'"
	fi
}

run_on() { # run_on ACCEL
	local accel=$1 d=$tmp/$1 rc
	mkdir -p "$d/fx"
	cp "$b/fixtures/test_view.so" "$d/fx/"
	cat > "$d/vm.ini" <<INI
[vm]
name = vga-dispi
memory = 64M
accel = $accel
kernel = $guest
control = $d/ctl.sock
plugin_path = $d/fx
[device com1]
plugin = uart16550
console = out
[console out]
plugin = stdio
[device exit]
plugin = debug-exit
[device vga]
plugin = vga
console = view
[console view]
plugin = test_view
interval_ms = 20
INI
	mkfifo "$d/in"
	"$hv" run -v "$d/vm.ini" > "$d/out" 2> "$d/err" < "$d/in" &
	pid=$!
	exec 4> "$d/in"
	for _ in $(seq 600); do
		grep -q READY "$d/out" 2> /dev/null && break
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.1
	done
	if ! grep -q READY "$d/out" 2> /dev/null; then
		wait "$pid"
		rc=$?
		echo "not ok vga-dispi-$accel-guest - exit status $rc (the failed CHECK's code), serial: $(tr '\n' '|' < "$d/out" 2> /dev/null) $(head -c 200 "$d/err")"
		return
	fi
	if [ "$(tr -d '\r' < "$d/out")" = "$want" ]; then
		echo "ok vga-dispi-$accel-guest"
	else
		echo "not ok vga-dispi-$accel-guest - serial: $(tr '\n' '|' < "$d/out")"
	fi
	if out=$("$hv" ctl "$d/ctl.sock" screenshot "$d/shot.png" 2>&1) &&
		out=$(python3 "$root/tests/display/vgacheck.py" "$d/shot.png" sum 1600 1200 2>&1); then
		echo "ok vga-dispi-$accel-screenshot - $out"
	else
		echo "not ok vga-dispi-$accel-screenshot - $out"
	fi
	damage_check "$accel" "$d"
	"$hv" ctl "$d/ctl.sock" quit > /dev/null 2>&1
	exec 4>&-
	for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	pid=
}

run_on emu
if [ -w /dev/kvm ] && "$hv" accel --accel=kvm > /dev/null 2>&1; then
	run_on kvm
else
	echo "ok vga-dispi-kvm # skip: no usable /dev/kvm"
fi
