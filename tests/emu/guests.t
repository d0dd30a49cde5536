#!/bin/bash
# Every bare-metal test guest (tests/guests) on accel=emu: the same serial
# output and exit status as under KVM.
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
hv=$root/$b/hv
n=0
for g in "$root/$b"/guests/*.bin; do
	[ -f "$g" ] || continue
	HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins} \
		sh "$root/tests/guests/run-guest.sh" "$hv" "$g" emu
	n=$((n + 1))
done
[ "$n" -gt 0 ] || echo "not ok emu-guests - no guests built in $b/guests"
exit 0
