#!/bin/sh
# /init of the nested test initramfs, run by busybox sh as PID 1.
#
# Channels: the kernel logs to ttyS0 (console=ttyS0); everything this script
# and the payload print goes to ttyS1, which run.sh reads. Lines starting
# with "HV-NESTED-" are markers for run.sh:
#   HV-NESTED-NOKVM <why>        /dev/kvm could not be brought up
#   HV-NESTED-KVM-READY <secs>   /dev/kvm is there, <secs> after boot
#   HV-NESTED-TIMEOUT <secs>     run-inside.sh was killed after <secs>
#   HV-NESTED-END status=<n>     run-inside.sh exited with <n>
#   HV-NESTED-BEAT               every 10 s while it runs (freeze detection)
# Whatever happens, the VM powers off (and, if that fails, init exits, the
# kernel panics and panic=-1 with QEMU's -no-reboot stops QEMU).
#
# Kernel command line: hv_timeout=<secs> is the whole run's budget, counted
# from boot; words after "--" are passed to run-inside.sh as arguments;
# hv_shell=1 gives an interactive shell on ttyS1 instead of running it.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TMPDIR=/tmp

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

budget=300 shell=0
read -r cmdline </proc/cmdline
for w in $cmdline; do
	case $w in
	hv_timeout=*) budget=${w#hv_timeout=} ;;
	hv_shell=1) shell=1 ;;
	esac
done

out=/dev/ttyS1
[ -c "$out" ] || out=/dev/console
[ $shell = 1 ] || stty -F "$out" raw -echo 2>/dev/null
exec >"$out" 2>&1 </dev/null

uptime_s() { cut -d' ' -f1 /proc/uptime; }

finish() {
	sync
	poweroff -f
	exit "$1"
}

nokvm() {
	echo "HV-NESTED-NOKVM $*"
	finish 1
}

ip link set lo up 2>/dev/null

# modparams NAME: the MODULE.PARAM=VALUE words of the kernel command line
# for module NAME (as modprobe would pass them; busybox insmod does not).
modparams() {
	for w in $cmdline; do
		case $w in
		"$1".*=*) echo "${w#"$1".}" ;;
		esac
	done
}

kver=$(uname -r)
while read -r mod; do
	[ -n "$mod" ] || continue
	m=${mod##*/}
	m=$(echo "${m%.ko}" | tr - _)
	# shellcheck disable=SC2046 # one word per parameter
	err=$(insmod "/lib/modules/$kver/$mod" $(modparams "$m") 2>&1) ||
		nokvm "insmod $mod failed: $err; $(dmesg | grep -i kvm | tail -n 1)"
done </etc/hv-nested/modules

i=0
while [ ! -c /dev/kvm ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -c /dev/kvm ]; then
	grep -qw svm /proc/cpuinfo || nokvm "/dev/kvm missing: the CPU has no svm flag"
	nokvm "/dev/kvm missing after loading the modules: $(dmesg | grep -i kvm | tail -n 2 | tr '\n' ' ')"
fi
echo "HV-NESTED-KVM-READY $(uptime_s)"

# Leave a few seconds of the budget for the end marker and the power-off.
now=$(uptime_s)
left=$((budget - ${now%.*} - 5))
[ $left -ge 5 ] || left=5

if [ ! -r /hv/run-inside.sh ]; then
	echo "not ok nested-payload - /hv/run-inside.sh missing from the payload"
	echo "HV-NESTED-END status=1"
	finish 1
fi

cd /hv || finish 1
if [ $shell = 1 ]; then
	echo "# nested: shell in /hv; 'sh /hv/run-inside.sh' runs the payload, 'exit' powers off"
	# shellcheck disable=SC2094 # a tty, read and written by design
	setsid -c sh -l <"$out" >"$out" 2>&1
	echo "HV-NESTED-END status=$?"
	finish 0
fi
# setsid puts the script and its children in one process group to kill.
setsid sh /hv/run-inside.sh "$@" &
pid=$!
(
	sleep "$left"
	echo "HV-NESTED-TIMEOUT $left"
	kill -TERM -"$pid" 2>/dev/null
	sleep 2
	kill -KILL -"$pid" 2>/dev/null
) &
watchdog=$!
# A heartbeat: run.sh takes silence on this channel for a frozen VM.
( while :; do sleep 10; echo "HV-NESTED-BEAT"; done ) &
beat=$!
wait "$pid"
status=$?
kill "$watchdog" "$beat" 2>/dev/null
echo "HV-NESTED-END status=$status"
finish "$status"
