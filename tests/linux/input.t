#!/bin/bash
# hv-test: once
# hv-test: timeout=700
# Input devices under Debian's kernel (accel=emu, machine=pc): one boot
# with the i8042 (implicit) and a virtio-input tablet, a display for
# `hv ctl mouse abs` to point at (the test_display fixture, 640x480), and
# a static evdev reader (tests/linux/evread.c) in the initramfs.
#   input-devices  /proc/bus/input/devices lists Linux's atkbd keyboard,
#                  psmouse's ImPS/2 wheel mouse and virtio_input's tablet
#   input-type     `hv ctl type` + `sendkey ret` of a command line reach a
#                  shell on tty1 (through atkbd); its output shows on ttyS0
#   input-tablet   `hv ctl mouse abs X Y 1` arrives at the tablet's event
#                  device as ABS_X/ABS_Y of hv ctl's scaling, BTN_LEFT, SYN
#   input-ps2mouse with the tablet's driver unbound, `mouse abs` moves the
#                  PS/2 mouse: REL_X/REL_Y summing to the move in pixels
#                  (a move over 255 split into two packets), a left click
#   input-poweroff `poweroff` ends hv with 0
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/${BUILD:-build}
limit=${HV_INPUT_TIMEOUT:-600}
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
hv=$build/hv
names=(input-devices input-type input-tablet input-ps2mouse input-poweroff)
skip_all() {
	for n in "${names[@]}"; do echo "not ok $n - $1"; done
	exit 0
}
[[ -n $kernel && -r $kernel ]] || skip_all "no readable /boot/vmlinuz-*"
kver=${kernel##*/vmlinuz-}
[[ -d /lib/modules/$kver ]] || skip_all "no /lib/modules/$kver"
[[ -r $build/fixtures/test_display.so ]] || skip_all "no test_display fixture (make test-build)"
t=$(mktemp -d)
pid=
trap 'kill -9 $pid 2>/dev/null; rm -rf "$t"' EXIT
if ! err=$(gcc -static -O2 -o "$t/evread" "$root/tests/linux/evread.c" 2>&1); then
	skip_all "evread does not build statically: $err"
fi
if ! err=$("$root/scripts/mkinitramfs.sh" "$t/initramfs.cpio.gz" --file "$t/evread:/bin/evread" \
	--kver "$kver" --module psmouse --module evdev --module virtio_pci \
	--module virtio_input 2>&1); then
	skip_all "mkinitramfs.sh failed: $err"
fi
mkdir "$t/fx"
cp "$build/fixtures/test_display.so" "$t/fx/"
sock=$t/ctl.sock
cat >"$t/vm.ini" <<INI
[vm]
name = input
memory = 256M
cpus = 1
accel = emu
kernel = $kernel
initrd = $t/initramfs.cpio.gz
cmdline = console=ttyS0 panic=-1
control = $sock
plugin_path = $t/fx

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

[device screen]
plugin = test_display
width = 640
height = 480

[device tablet]
plugin = virtio-input
type = tablet
INI
mkfifo "$t/in"
start=$(date +%s)
"$hv" run "$t/vm.ini" <"$t/in" >"$t/out" 2>"$t/err" &
pid=$!
exec 3>"$t/in"

# wait_for PATTERN [FILE]: 0 once it shows, 1 on timeout or exit
wait_for() {
	while ! grep -aq -e "$1" "${2:-$t/out}" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		(($(date +%s) - start < limit)) || return 1
		sleep 0.2
	done
}
diag() {
	echo "# hv stderr: $(tail -c 400 "$t/err" | tr '\n' '|')"
	tail -n 12 "$t/out" | tr -d '\r' | sed 's/^/#   /'
}
ctl() { "$hv" ctl "$sock" "$@" >>"$t/ctl.log" 2>&1 || echo "# hv ctl $* failed: $(tail -n 1 "$t/ctl.log")"; }
# events TAG: "TYPE CODE VALUE" lines evread printed for TAG
events() { grep -a "^EVT$1 " "$t/out" | tr -d '\r' | cut -d' ' -f2-; }

if ! wait_for HV-LINUX-READY; then
	echo "not ok input-devices - no shell within $limit s"
	diag
	exit 0
fi
sleep 1

# ---- the devices Linux's drivers found ----
echo 'cat /proc/bus/input/devices | sed -n "s/^N: Name=/DEVNAME /p"; echo DEVS$((1))' >&3
wait_for DEVS1
devs=$(grep -a '^DEVNAME' "$t/out" | tr -d '\r')
missing=
for want in '"AT Translated Set 2 keyboard"' '"ImPS/2 Generic Wheel Mouse"' '"hv virtio tablet"'; do
	grep -qF "DEVNAME $want" <<<"$devs" || missing+=" $want"
done
if [[ -z $missing ]]; then
	echo "ok input-devices - $(sed 's/^DEVNAME //' <<<"$devs" | tr '\n' ',' | sed 's/,$//')"
else
	echo "not ok input-devices - missing:$missing"
	sed 's/^/# /' <<<"$devs"
fi

# ---- typing into a shell on tty1 ----
echo "setsid sh -c 'exec sh </dev/tty1 >/dev/ttyS0 2>&1' & echo TTY\$((1))" >&3
wait_for TTY1
sleep 2
ctl type 'echo HV-TTY$((6*7)) A-Z_ok'
ctl sendkey ret
if wait_for 'HV-TTY42 A-Z_ok'; then
	echo "ok input-type - a command typed through the PS/2 keyboard ran on tty1"
else
	echo "not ok input-type - no HV-TTY42 A-Z_ok on the console"
	diag
fi

# ---- the tablet ----
echo "evread 'hv virtio tablet' TAB 8 &" >&3
if wait_for EVTTAB-READY; then
	ctl mouse abs 320 240
	ctl mouse abs 500 100 1
	ctl mouse abs 500 100 0
	wait_for EVTTAB-END
	ax1=$(((320 * 32767 + 319) / 639)) ay1=$(((240 * 32767 + 239) / 479))
	ax2=$(((500 * 32767 + 319) / 639)) ay2=$(((100 * 32767 + 239) / 479))
	got=$(events TAB | tr '\n' ';')
	want="3 0 $ax1;3 1 $ay1;0 0 0;3 0 $ax2;3 1 $ay2;1 272 1;0 0 0;1 272 0;0 0 0;"
	if [[ $got == "$want" ]]; then
		echo "ok input-tablet - ABS ($ax1,$ay1), ($ax2,$ay2) with a left click, each a report"
	else
		echo "not ok input-tablet - events '$got', want '$want'"
		diag
	fi
else
	echo "not ok input-tablet - evread found no tablet"
	diag
fi

# ---- the PS/2 mouse, once the tablet is gone ----
echo 'for d in /sys/bus/virtio/drivers/virtio_input/virtio*; do echo ${d##*/} > /sys/bus/virtio/drivers/virtio_input/unbind; done; echo UNB$((1))' >&3
wait_for UNB1
echo "evread 'ImPS/2 Generic Wheel Mouse' PS2 6 &" >&3
if wait_for EVTPS2-READY; then
	# the pointer is at (500,100): to (100,400), over 255 counts in X
	ctl mouse abs 100 400
	wait_for EVTPS2-END
	sums=$(events PS2 | awk '$1 == 2 && $2 == 0 { x += $3 } $1 == 2 && $2 == 1 { y += $3 }
		$1 == 0 { r++ } END { printf "%d %d %d", x, y, r }')
	echo "evread 'ImPS/2 Generic Wheel Mouse' PS2B 6 &" >&3
	wait_for EVTPS2B-READY
	ctl mouse abs 100 400 1
	ctl mouse abs 100 400 0
	wait_for EVTPS2B-END
	clicks=$(events PS2B | awk '$1 == 1 && $2 == 272 { b = b $3 } END { print b }')
	if [[ $sums == "-400 300 2" && $clicks == 10 ]]; then
		echo "ok input-ps2mouse - REL (-400,300) in 2 packets for (500,100) -> (100,400), a left click"
	else
		echo "not ok input-ps2mouse - REL sums, reports '$sums' (want '-400 300 2'), clicks '$clicks' (want 10)"
		events PS2 | tr "\n" ";" | sed "s/^/# /"
		echo
		diag
	fi
else
	echo "not ok input-ps2mouse - evread found no PS/2 mouse"
	diag
fi

echo poweroff >&3
while kill -0 "$pid" 2>/dev/null && (($(date +%s) - start < limit)); do
	sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
	echo "not ok input-poweroff - hv still running after $limit s"
	exit 0
fi
wait "$pid"
rc=$?
pid=
if ((rc == 0)); then
	echo "ok input-poweroff - hv exited 0"
else
	echo "not ok input-poweroff - hv exited $rc"
	diag
fi
exit 0
