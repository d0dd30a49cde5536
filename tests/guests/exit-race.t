#!/bin/bash
# hv-test: timeout=300
# Issue 15, defect 6: a guest that wrote its exit status to the debug-exit
# port and then halted with interrupts off ends with that status, always:
# the SMP exit-race guest 50 times per backend (emu, and this host's
# /dev/kvm when there is one) beside a busy loop that loads the CPUs.
set -u
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
hv=$root/$b/hv
export HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins}
case $HV_PLUGIN_PATH in /*) ;; *) HV_PLUGIN_PATH=$root/$HV_PLUGIN_PATH ;; esac
bin=$root/$b/guests/exit-race.bin
runs=${HV_EXIT_RACE_RUNS:-50}
if [ ! -f "$bin" ]; then
	echo "not ok exit-race - $bin is not built"
	exit 0
fi
( while :; do :; done ) &
busy=$!
trap 'kill $busy 2>/dev/null' EXIT
accels=emu
[ "$("$hv" accel --accel=kvm --name 2>/dev/null)" = kvm ] && accels="emu kvm"
for accel in $accels; do
	bad=0 why=
	for i in $(seq "$runs"); do
		out=$(sh "$root/tests/guests/run-guest.sh" "$hv" "$bin" "$accel")
		case $out in
		ok*) ;;
		*) bad=$((bad + 1)); why=${out#*- } ;;
		esac
	done
	if [ $bad = 0 ]; then
		echo "ok exit-race-$accel - $runs runs under load, the written status every time"
	else
		echo "not ok exit-race-$accel - $bad of $runs runs lost the status: $why"
	fi
done
exit 0
