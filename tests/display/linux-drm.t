#!/bin/bash
# hv-test: once
# hv-test: timeout=900
# Debian's own kernel on the interpreter (accel=emu) with the VGA and
# Debian's bochs DRM driver (bochs.ko and its dependencies from
# /lib/modules, insmod'ed by the busybox initramfs): one boot, several
# checks. The driver binds 1234:1111, reads the EDID and lists 1600x1200
# among the connector's modes; the EDID's preferred mode makes fbdev come
# up at 1600x1200x32 (no video= on the command line), and fbcon's console
# on tty1 is 200x75 (8x16 font). Then fbcon is unbound, the guest copies a
# known 1600x1200 XRGB8888 picture to /dev/fb0, and a screenshot taken
# through the control socket (hv screenshot) must show exactly it.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/${BUILD:-build}
limit=${HV_DRM_TIMEOUT:-600}
kernel=${HV_EMU_LINUX_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n 1)}
if [[ -z $kernel || ! -r $kernel ]]; then
	echo "not ok linux-drm - no readable /boot/vmlinuz-* (linux-image-amd64)"
	exit 0
fi
kver=${kernel#*/vmlinuz-}
t=$(mktemp -d)
pid=
trap 'kill -9 $pid 2>/dev/null; rm -rf "$t"' EXIT
W=1600 H=1200
# the picture: pixel (x, y) = (x & 255) << 16 | (y & 255) << 8 | (x ^ y) & 255 (vgacheck.py xor)
python3 - "$t/pattern.raw" $W $H <<'PY'
import struct, sys
w, h = int(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[1], 'wb') as f:
    for y in range(h):
        f.write(b''.join(struct.pack('<I', (x & 255) << 16 | (y & 255) << 8 | (x ^ y) & 255)
                         for x in range(w)))
PY
if ! err=$("$root/scripts/mkinitramfs.sh" "$t/initramfs.cpio.gz" --kver "$kver" \
		--module bochs --file "$t/pattern.raw:/pattern.raw" 2>&1); then
	echo "not ok linux-drm - mkinitramfs.sh failed: $err"
	exit 0
fi
sock=$t/ctl.sock
cat >"$t/vm.ini" <<INI
[vm]
name = linux-drm
memory = 512M
cpus = 1
accel = emu
kernel = $kernel
initrd = $t/initramfs.cpio.gz
cmdline = console=ttyS0 panic=-1
control = $sock

[device com1]
plugin = uart16550
port = 0x3f8
irq = 4
console = serial

[console serial]
plugin = stdio

[device vga]
plugin = vga
INI
mkfifo "$t/in"
start=$(date +%s)
"$build/hv" run "$t/vm.ini" <"$t/in" >"$t/out" 2>"$t/err" &
pid=$!
exec 3>"$t/in"

# wait_for PATTERN: 0 once the console shows it, 1 on timeout or exit
wait_for() {
	while ! grep -aq "$1" "$t/out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		(($(date +%s) - start < limit)) || return 1
		sleep 0.3
	done
}
diag() {
	echo "# hv stderr: $(tail -c 400 "$t/err" | tr '\n' '|')"
	tail -n 15 "$t/out" | tr -d '\r' | sed 's/^/#   /'
}
# ask NAME CMD: run CMD in the guest, its output lines tagged NAME (the
# sequence number lives in a file: ask runs in command substitutions)
echo 0 > "$t/n"
ask() {
	local n=$(($(cat "$t/n") + 1))
	echo $n > "$t/n"
	echo "{ $2; } 2>&1 | sed 's/^/$1: /'; echo DONE-$n-\$((1+1))" >&3
	wait_for "DONE-$n-2" || return 1
	grep -a "^$1: " "$t/out" | tr -d '\r' | sed "s/^$1: //"
}
check() { # check NAME CONDITION-STATUS WHY
	if [ "$2" = 0 ]; then echo "ok $1"; else echo "not ok $1 - $3"; fi
}

if ! wait_for HV-LINUX-READY; then
	echo "not ok linux-drm-boot - no shell within $limit s"
	diag
	exit 0
fi
echo "ok linux-drm-boot - shell after $(($(date +%s) - start)) s"
# the driver binds once its modules are in: wait for its connector
for _ in $(seq 60); do
	c=$(ask conn 'ls -d /sys/class/drm/card0-* 2>/dev/null')
	[ -n "$c" ] && break
	sleep 1
done
drv=$(ask drv 'basename $(readlink /sys/bus/pci/devices/*/driver 2>/dev/null | grep bochs) 2>/dev/null; dmesg | grep -i -m3 bochs')
check linux-drm-bochs-bound "$([[ $drv == *bochs* ]]; echo $?)" "no bochs driver: $drv"
modes=$(ask modes 'cat /sys/class/drm/card0-*/modes')
check linux-drm-modes-1600x1200 "$(grep -qx 1600x1200 <<<"$modes"; echo $?)" \
	"modes: $(echo $modes)"
big=$(awk -F x '$1 > 1600 || $2 > 1200' <<<"$modes" | head -1)
check linux-drm-modes-within-max "$([ -z "$big" ]; echo $?)" "lists $big"
vs=$(ask vsize 'cat /sys/class/graphics/fb0/virtual_size')
check linux-drm-fb0-virtual-size "$([ "$vs" = 1600,1200 ]; echo $?)" "virtual_size '$vs'"
bpp=$(ask bpp 'cat /sys/class/graphics/fb0/bits_per_pixel')
check linux-drm-fb0-32bpp "$([ "$bpp" = 32 ]; echo $?)" "bits_per_pixel '$bpp'"
stride=$(ask stride 'cat /sys/class/graphics/fb0/stride')
size=$(ask tty1 'stty -F /dev/tty1 size')
check linux-drm-fbcon-200x75 "$([ "$size" = "75 200" ]; echo $?)" "tty1 rows cols '$size'"

# the picture: fbcon unbound so that nothing else draws, then the copy
ask unbind 'for v in /sys/class/vtconsole/vtcon*; do grep -q "frame buffer" $v/name && echo 0 > $v/bind; done; cat /sys/class/vtconsole/vtcon*/bind' >/dev/null
ask copy 'cat /pattern.raw > /dev/fb0; echo copied' >/dev/null
if false; then
	echo "not ok linux-drm-screenshot - hv has no screenshot command (disp-core)"
else
	ok=1 why=
	for _ in $(seq 30); do
		rm -f "$t/shot.png"
		why=$("$build/hv" ctl "$sock" screenshot "$t/shot.png" 2>&1) || { sleep 1; continue; }
		if why=$(python3 "$root/tests/display/vgacheck.py" "$t/shot.png" xor $W $H 2>&1); then
			ok=0
			break
		fi
		sleep 1 # deferred I/O flushes fb0 to vram a little later
	done
	check linux-drm-screenshot-pattern $ok "stride $stride: $why"
fi
echo poweroff >&3
while kill -0 "$pid" 2>/dev/null && (($(date +%s) - start < limit)); do sleep 0.3; done
if kill -0 "$pid" 2>/dev/null; then
	echo "not ok linux-drm-poweroff - hv still running"
	diag
else
	wait "$pid"
	rc=$?
	check linux-drm-poweroff "$([ $rc = 0 ]; echo $?)" "exit status $rc"
fi
