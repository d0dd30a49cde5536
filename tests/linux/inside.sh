#!/bin/sh
# In the nested VM (tests/nested): boot Debian's kernel under hv with
# accel=kvm and check it from its serial console. POSIX sh (busybox).
# usage: inside.sh CPUS MEMORY [EXTRA-CMDLINE-WORDS joined by ,]
cd /hv || exit 1
cpus=${1:-2} mem=${2:-512M} extra=$(echo "${3:-}" | tr ',' ' ')
t=/tmp/linux-$cpus
mkdir -p $t
cat >$t/vm.ini <<INI
[vm]
name = linux
memory = $mem
cpus = $cpus
accel = kvm
kernel = /hv/vmlinuz
initrd = /hv/initramfs.cpio.gz
cmdline = console=ttyS0 panic=-1 $extra

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

[device t]
plugin = pci-testdev
bar2_size = 1G
INI
rm -f $t/in
mkfifo $t/in
start=$(cut -d' ' -f1 /proc/uptime)
/hv/hv run $t/vm.ini <$t/in >$t/out 2>$t/err &
pid=$!
exec 3>$t/in

since() { echo "$(cut -d' ' -f1 /proc/uptime) $start" | awk '{ printf "%.1f", $1 - $2 }'; }
# wait_for PATTERN SECONDS: 0 once the console shows PATTERN
wait_for() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		grep -q "$1" $t/out 2>/dev/null && return 0
		kill -0 $pid 2>/dev/null || { grep -q "$1" $t/out; return $?; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
diag() {
	echo "# hv stderr: $(tail -c 600 $t/err | tr '\n' '|')"
	echo "# console tail:"
	tail -n ${DIAG_LINES:-15} $t/out | sed 's/^/#   /'
	echo
}
name="linux-$cpus"
fail=0
if wait_for HV-LINUX-READY 240; then
	echo "ok $name-boot - /init ran after $(since) s ($(grep -o 'HV-LINUX-INIT [0-9.]*' $t/out))"
else
	echo "not ok $name-boot - no HV-LINUX-READY within 240 s"
	diag
	kill -9 $pid 2>/dev/null
	exit 1
fi
printf 'echo CPUS=$(grep -c ^processor /proc/cpuinfo) MEM=$(sed -n "s/^MemTotal: *\\([0-9]*\\) kB/\\1/p" /proc/meminfo)\n' >&3
printf 'lspci -n | sed "s/^/PCI /"; lspci; echo ECHO-$((6 * 7))\n' >&3
# (markers the echoed command line cannot match: ECHO-$((6 * 7)), CLK$((1)))
if wait_for 'ECHO-42' 60 &&
	printf 'hwclock -s -u && echo CLK$((1))=$(date +%%s) RTC=ok\n' >&3 &&
	wait_for 'CLK1=[0-9]' 30; then
	echo "ok $name-serial - a command typed on the serial console ran"
else
	echo "not ok $name-serial - no reply to commands on the serial console"
	diag
	fail=1
fi
# issue 15: the 8254 on I/O APIC pin 2, as the MADT's IRQ0 override says
# (no "MP-BIOS bug", no ExtINT fallback), and the ACPI tables offer no S3
printf 'dmesg | grep -e MP-BIOS -e ExtINT -e "supports S" | sed "s/^/KPLAT /"; head -n 3 /proc/interrupts | tr -s " " _ | sed "s/^/KIRQ /"; echo PLAT$((1))\n' >&3
if wait_for PLAT1 30; then
	irq0=$(grep '^KIRQ _*0:' $t/out | tail -n 1 | tr -d '\r')
	bad=$(grep -e '^KPLAT.*MP-BIOS' -e '^KPLAT.*ExtINT' $t/out | head -n 1 | tr -d '\r')
	if [ -z "$bad" ] && echo "$irq0" | grep -q 'IO-APIC_2-edge_timer'; then
		echo "ok $name-timer-ioapic - IRQ0 on I/O APIC pin 2 (${irq0#KIRQ })"
	elif [ -z "$bad" ] && [ -z "$irq0" ]; then
		# TSC-deadline LAPIC timer: Linux needs no PIT (apic_needs_pit)
		echo "ok $name-timer-ioapic - no MP-BIOS bug or ExtINT; Linux uses no PIT (no IRQ0)"
	else
		echo "not ok $name-timer-ioapic - ${bad:-$irq0}"
		grep -e '^KIRQ' -e '^KPLAT' $t/out | tr -d '\r' | sed 's/^/# guest: /'
		fail=1
	fi
	sleep=$(grep '^KPLAT.*supports S' $t/out | tail -n 1 | tr -d '\r')
	if [ -n "$sleep" ] && ! echo "$sleep" | grep -q 'S3'; then
		echo "ok $name-acpi-no-s3 - ${sleep#*] }"
	else
		echo "not ok $name-acpi-no-s3 - '${sleep#KPLAT }'"
		fail=1
	fi
else
	echo "not ok $name-timer-ioapic - no answer to the dmesg command"
	diag
	fail=1
fi
ncpu=$(sed -n 's/.*CPUS=\([0-9]*\).*/\1/p' $t/out | tail -n 1)
memk=$(sed -n 's/.*MEM=\([0-9]*\).*/\1/p' $t/out | tail -n 1)
if [ "$ncpu" = "$cpus" ]; then
	echo "ok $name-cpus - /proc/cpuinfo lists $ncpu CPUs"
else
	echo "not ok $name-cpus - /proc/cpuinfo lists '$ncpu' CPUs, want $cpus"
	fail=1
fi
want_k=$(echo "$mem" | sed 's/M$//')
want_k=$((want_k * 1024))
if [ -n "$memk" ] && [ "$memk" -le "$want_k" ] && [ "$memk" -ge $((want_k * 85 / 100)) ]; then
	echo "ok $name-meminfo - MemTotal $memk kB of $want_k"
else
	echo "not ok $name-meminfo - MemTotal '$memk' kB, want 85-100% of $want_k"
	fail=1
fi
if grep -q '^PCI 00:00.0 .*1b36:0008' $t/out; then
	echo "ok $name-lspci - $(grep '^00:00.0' $t/out | head -n 1 | tr -d '\r')"
else
	echo "not ok $name-lspci - the host bridge is not in lspci"
	diag
	fail=1
fi
host=$(date +%s)
guest=$(sed -n 's/.*CLK1=\([0-9]*\).*/\1/p' $t/out | tail -n 1)
if [ -n "$guest" ] && [ $((host - guest)) -lt 120 ] && [ $((guest - host)) -lt 120 ] && grep -q 'RTC=ok' $t/out; then
	echo "ok $name-clock - the clock set from the CMOS RTC (hwclock -s) is within 2 min of the host's"
else
	echo "not ok $name-clock - guest '$guest' vs host $host, $(grep -o 'RTC=[a-z]*' $t/out)"
	fail=1
fi
# The pci-testdev: Linux places its 1 GiB BAR in the DSDT's 64-bit window;
# uio_pci_generic (a driver that knows nothing of the device) takes its
# INTx, routed by the _PRT; a doorbell rung through /dev/mem must fire it.
printf 'd=$(grep -l 0x7e57 /sys/bus/pci/devices/*/device); d=${d%%/device}; echo 1234 7e57 >/sys/bus/pci/drivers/uio_pci_generic/new_id; sleep 1; irq=$(cat $d/irq); b0=$(awk "NR==1 { print \\$1 }" $d/resource); b2=$(awk "NR==3 { print \\$1 }" $d/resource); n0=$(awk -v i="$irq:" "\\$1 == i { print \\$2 + \\$3 }" /proc/interrupts); devmem $((b0 + 16)) 32 0; sleep 1; n1=$(awk -v i="$irq:" "\\$1 == i { print \\$2 + \\$3 }" /proc/interrupts); echo TD$((1)) IRQ=$irq N0=$n0 N1=$n1 B2=$b2 ID2=$(devmem $b2 32) LINE=$(grep "^ *$irq:" /proc/interrupts | tr -s " " _); dmesg | grep -e _OSC -e "root bus resource" -e "00:0[1-9].0: BAR" -e "00:0[1-9].0: reg" | sed "s/^/KMSG /"; echo TD$((2))\n' >&3
if wait_for 'TD2' 30; then
	td=$(grep 'TD1 ' $t/out | tail -n 1 | tr -d '\r')
	irq=$(echo "$td" | sed -n 's/.*IRQ=\([0-9]*\).*/\1/p')
	n0=$(echo "$td" | sed -n 's/.* N0=\([0-9]*\).*/\1/p')
	n1=$(echo "$td" | sed -n 's/.* N1=\([0-9]*\).*/\1/p')
	b2=$(echo "$td" | sed -n 's/.* B2=\(0x[0-9a-f]*\).*/\1/p')
	grep '^KMSG' $t/out | tr -d '\r' | sed 's/^KMSG /# guest: /'
	if [ -n "$b2" ] && [ $((b2)) -ge $((1 << 32)) ] && echo "$td" | grep -q 'ID2=0x7E57DE00'; then
		echo "ok $name-pci-bar64 - the 1 GiB 64-bit BAR at $b2, above 4 GiB, answers"
	else
		echo "not ok $name-pci-bar64 - $td"
		fail=1
	fi
	if [ -n "$irq" ] && [ "$irq" -ge 16 ] && [ "$irq" -le 23 ] && [ -n "$n0" ] &&
		[ "$n1" = $((n0 + 1)) ] && echo "$td" | grep -q 'IO-APIC.*fasteoi.*uio_pci_generic'; then
		echo "ok $name-pci-intx - the doorbell fired GSI $irq once (IO-APIC, level) for uio_pci_generic"
	else
		echo "not ok $name-pci-intx - $td"
		fail=1
	fi
else
	echo "not ok $name-pci-intx - no answer to the pci-testdev commands"
	diag
	fail=1
fi
printf 'poweroff\n' >&3
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
	echo "not ok $name-poweroff - hv still runs 60 s after poweroff"
	diag
	kill -9 $pid
	exit 1
fi
wait $pid
status=$?
if [ $status = 0 ]; then
	echo "ok $name-poweroff - hv exited 0 $(since) s after start"
else
	echo "not ok $name-poweroff - hv exited $status"
	diag
	fail=1
fi
exec 3>&-

# SIGTERM: the ACPI power button; the guest's acpid powers off
rm -f $t/out
start=$(cut -d' ' -f1 /proc/uptime)
/hv/hv run $t/vm.ini </dev/null >$t/out 2>$t/err &
pid=$!
if wait_for HV-LINUX-READY 240; then
	sleep 1
	kill -TERM $pid
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then
		echo "not ok $name-sigterm - hv still runs 60 s after SIGTERM"
		diag
		kill -INT $pid
		sleep 2
		kill -9 $pid 2>/dev/null
		fail=1
	else
		wait $pid
		status=$?
		if [ $status = 0 ]; then
			echo "ok $name-sigterm - SIGTERM pressed the power button, the guest powered off, hv exited 0"
		else
			echo "not ok $name-sigterm - hv exited $status after SIGTERM (143: no ACPI power-off)"
			diag
			fail=1
		fi
	fi
else
	echo "not ok $name-sigterm - the second boot did not reach /init"
	diag
	kill -9 $pid
	fail=1
fi

# PVH: hv unpacks the bzImage and enters the vmlinux; one vCPU
awk '/^cpus =/ { print "cpus = 1"; print "kernel_format = pvh"; next } { print }' $t/vm.ini >$t/pvh.ini
rm -f $t/out $t/in
mkfifo $t/in
start=$(cut -d' ' -f1 /proc/uptime)
/hv/hv run $t/pvh.ini <$t/in >$t/out 2>$t/err &
pid=$!
exec 3>$t/in
name=linux-pvh-1
if wait_for HV-LINUX-READY 240; then
	echo "ok $name-boot - /init ran after $(since) s ($(grep -o 'HV-LINUX-INIT [0-9.]*' $t/out))"
	printf 'echo CPUS=$(grep -c ^processor /proc/cpuinfo) ECHO-$((6 * 7))\n' >&3
	if wait_for ECHO-42 60 && grep -q 'CPUS=1 ' $t/out; then
		echo "ok $name-cpus - one CPU, the shell answers"
	else
		echo "not ok $name-cpus - $(grep -o 'CPUS=[0-9]*' $t/out | tail -n 1)"
		fail=1
	fi
	# reboot (on_reboot = restart): the VM comes up a second time
	printf 'reboot\n' >&3
	i=0
	while [ "$(grep -c HV-LINUX-READY $t/out)" -lt 2 ] && [ $i -lt 2400 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ "$(grep -c HV-LINUX-READY $t/out)" -ge 2 ]; then
		echo "ok $name-reboot - the guest's reboot restarted the VM and it booted again"
	else
		echo "not ok $name-reboot - no second boot after reboot"
		diag
		fail=1
	fi
	sleep 1
	printf 'poweroff\n' >&3
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 $pid 2>/dev/null && echo "not ok $name-poweroff - still running" && fail=1
	wait $pid
	status=$?
	if [ $status = 0 ]; then
		echo "ok $name-poweroff - hv exited 0 $(since) s after start"
	else
		echo "not ok $name-poweroff - hv exited $status"
		diag
		fail=1
	fi
else
	echo "not ok $name-boot - no HV-LINUX-READY within 240 s"
	diag
	kill -9 $pid
	fail=1
fi
exec 3>&-
exit $fail
