#!/bin/bash
# The interpreter chipset's RTC (core/emu/rtc.c, used when no CMOS device
# plugin owns ports 70h/71h: machine = none): periodic interrupts on IRQ 8.
b=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/$b/tests/emu
mkdir -p "$out"
if ! nasm -f bin -I"$root/tests/guests/include/" -o "$out/rtc.bin" "$root/tests/emu/rtc.asm"; then
	echo "not ok rtc (emu) - nasm failed"
	exit 0
fi
HV_GUEST_SRC=$root/tests/emu HV_PLUGIN_PATH=${HV_PLUGIN_PATH:-$root/$b/plugins} \
	sh "$root/tests/guests/run-guest.sh" "$root/$b/hv" "$out/rtc.bin" emu
exit 0
