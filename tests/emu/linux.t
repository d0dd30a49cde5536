#!/bin/bash
# hv-test: once
# hv-test: timeout=600
# Debian's own kernel on the interpreter (accel=emu, machine=pc, 1 vCPU,
# 256 MiB) with the busybox initramfs of scripts/mkinitramfs.sh: it must
# reach the shell, run a command typed on the serial console, and
# `poweroff` must end hv with status 0. Prints the boot time.
# HV_EMU_LINUX_FORMAT=linux boots the bzImage through the boot protocol
# (the guest decompresses itself) instead of the default (PVH, unpacked on
# the host).
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/${BUILD:-build}
limit=${HV_EMU_LINUX_TIMEOUT:-420}
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
if [[ -z $kernel || ! -r $kernel ]]; then
	echo "not ok emu-linux - no readable /boot/vmlinuz-* (linux-image-amd64, root)"
	exit 0
fi
if ! command -v busybox >/dev/null || ldd "$(command -v busybox)" >/dev/null 2>&1; then
	echo "not ok emu-linux - busybox-static is not installed"
	exit 0
fi
t=$(mktemp -d)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$t"' EXIT
pid=
if ! err=$("$root/scripts/mkinitramfs.sh" "$t/initramfs.cpio.gz" 2>&1); then
	echo "not ok emu-linux - mkinitramfs.sh failed: $err"
	exit 0
fi
cat >"$t/vm.ini" <<INI
[vm]
name = emu-linux
memory = 256M
cpus = 1
accel = emu
kernel = $kernel
initrd = $t/initramfs.cpio.gz
cmdline = console=ttyS0 panic=-1
${HV_EMU_LINUX_FORMAT:+kernel_format = $HV_EMU_LINUX_FORMAT}

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio
INI
mkfifo "$t/in"
start=$(date +%s.%N)
"$build/hv" run "$t/vm.ini" <"$t/in" >"$t/out" 2>"$t/err" &
pid=$!
exec 3>"$t/in"

elapsed() { echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }'; }
# wait_for PATTERN: 0 once the console shows it, 1 on timeout or exit
wait_for() {
	while ! grep -q "$1" "$t/out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		(($(date +%s) - ${start%.*} < limit)) || return 1
		sleep 0.2
	done
}
diag() {
	echo "# hv stderr: $(tail -c 400 "$t/err" | tr '\n' '|')"
	tail -n 12 "$t/out" | sed 's/^/#   /'
}

if ! wait_for HV-LINUX-READY; then
	echo "not ok emu-linux-boot - no shell within $limit s"
	diag
	exit 0
fi
boot=$(elapsed)
echo "ok emu-linux-boot - shell after $boot s wall clock ($(grep -ao 'HV-LINUX-INIT [0-9.]*' "$t/out") s guest uptime)"
sleep 1
echo 'echo HV-EMU-$((6 * 7)); uname -m' >&3
if wait_for HV-EMU-42; then
	echo "ok emu-linux-command - a command typed on ttyS0 ran"
else
	echo "not ok emu-linux-command - no HV-EMU-42 on the console"
	diag
fi
# issue 15: the 8254 on I/O APIC pin 2, as the MADT's IRQ0 override says
# (no "MP-BIOS bug", no ExtINT fallback), and the ACPI tables offer no S3
echo 'dmesg | grep -e MP-BIOS -e ExtINT -e "supports S" | sed "s/^/KPLAT /"; head -n 3 /proc/interrupts | tr -s " " _ | sed "s/^/KIRQ /"; echo PLAT$((1))' >&3
if wait_for PLAT1; then
	irq0=$(grep -a '^KIRQ _*0:' "$t/out" | tail -n 1 | tr -d '\r')
	bad=$(grep -a -e '^KPLAT.*MP-BIOS' -e '^KPLAT.*ExtINT' "$t/out" | head -n 1 | tr -d '\r')
	if [[ -z $bad && $irq0 == *IO-APIC_2-edge_timer* ]]; then
		echo "ok emu-linux-timer-ioapic - IRQ0 on I/O APIC pin 2 (${irq0#KIRQ })"
	elif [[ -z $bad && -z $irq0 ]]; then
		# TSC-deadline LAPIC timer: Linux needs no PIT (apic_needs_pit)
		echo "ok emu-linux-timer-ioapic - no MP-BIOS bug or ExtINT; Linux uses no PIT (no IRQ0)"
	else
		echo "not ok emu-linux-timer-ioapic - ${bad:-$irq0}"
		grep -a -e '^KIRQ' -e '^KPLAT' "$t/out" | tr -d '\r' | sed 's/^/# guest: /'
	fi
	sleep=$(grep -a '^KPLAT.*supports S' "$t/out" | tail -n 1 | tr -d '\r')
	if [[ -n $sleep && $sleep != *S3* ]]; then
		echo "ok emu-linux-acpi-no-s3 - ${sleep#*] }"
	else
		echo "not ok emu-linux-acpi-no-s3 - '${sleep#KPLAT }'"
	fi
else
	echo "not ok emu-linux-timer-ioapic - no answer to the dmesg command"
	diag
fi
echo poweroff >&3
while kill -0 "$pid" 2>/dev/null && (($(date +%s) - ${start%.*} < limit)); do
	sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
	echo "not ok emu-linux-poweroff - hv still running after $limit s"
	diag
	exit 0
fi
wait "$pid"
rc=$?
pid=
if ((rc == 0)); then
	echo "ok emu-linux-poweroff - hv exited 0 after $(elapsed) s"
else
	echo "not ok emu-linux-poweroff - hv exited $rc"
	diag
fi
exit 0
