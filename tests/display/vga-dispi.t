#!/bin/bash
# hv-test: timeout=300
# The VGA's PCI/DISPI half end to end with a bare-metal guest
# (tests/guests/vga-dispi.asm: PCI IDs and BARs, DISPI through the VBE
# ports and BAR2, EDID, GETCAPS, absurd modes clamped or refused, then a
# 1600x1200x32 picture), on the interpreter and, when it runs here, on
# the host's KVM: every check the guest prints, then a screenshot through
# the control socket decoded by tests/display/vgacheck.py (zlib + struct)
# must hold the guest's picture pixel for pixel.
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

run_on() { # run_on ACCEL
	local accel=$1 d=$tmp/$1 rc
	mkdir -p "$d"
	cat > "$d/vm.ini" <<INI
[vm]
name = vga-dispi
memory = 64M
accel = $accel
kernel = $guest
control = $d/ctl.sock
[device com1]
plugin = uart16550
console = out
[console out]
plugin = logfile
path = $d/out
[device exit]
plugin = debug-exit
[device vga]
plugin = vga
INI
	"$hv" run -q "$d/vm.ini" > "$d/stdout" 2> "$d/err" < /dev/null &
	pid=$!
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
	if [ "$(cat "$d/out")" = "$want" ]; then
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
	"$hv" ctl "$d/ctl.sock" quit > /dev/null 2>&1
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
