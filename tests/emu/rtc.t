#!/bin/bash
# The RTC's periodic interrupts on IRQ 8 through the cmos plugin, the one
# RTC both backends use (the interpreter once had its own): on emu, and
# on this host's /dev/kvm when there is one.
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/$b/tests/emu
mkdir -p "$out"
if ! nasm -f bin -I"$root/tests/guests/include/" -o "$out/rtc.bin" "$root/tests/emu/rtc.asm"; then
	echo "not ok rtc (emu) - nasm failed"
	exit 0
fi
accels=emu
[ "$("$root/$b/hv" accel --accel=kvm --name 2>/dev/null)" = kvm ] && accels="emu kvm"
for accel in $accels; do
	HV_GUEST_SRC=$root/tests/emu HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins} \
		sh "$root/tests/guests/run-guest.sh" "$root/$b/hv" "$out/rtc.bin" "$accel"
done
exit 0
