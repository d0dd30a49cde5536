# hv-test: timeout=300
# The VNC frontend on the real display device: plugins/display/vga with
# the bare-metal DISPI guest (tests/guests/vga-dispi.asm, on the
# interpreter), which ends by drawing 1600x1200x32 with R = x, G = y,
# B = x + y (mod 256) into its framebuffer BAR. A libvncclient viewer that
# connected before the mode change follows it (DesktopSize) and reads the
# guest's pixels exactly (raw encoding, straight from guest VRAM).
set -u
. tests/console/vnclib.sh

pat() { printf '%02x%02x%02x' $(($1 & 255)) $(($2 & 255)) $((($1 + $2) & 255)); }
cat > "$tmp/vm.ini" <<INI
[vm]
memory = 64M
accel = emu
kernel = $PWD/$b/guests/vga-dispi.bin
control = $tmp/ctl.sock
[device com1]
plugin = uart16550
console = out
[console out]
plugin = logfile
path = $tmp/serial.log
[device exit]
plugin = debug-exit
[device vga]
plugin = vga
console = vnc
[console vnc]
plugin = vnc
listen = unix:$tmp/vnc.sock
INI
if ! start_vm; then
	echo "not ok vnc-vga-start - $(tr '\n' '|' < "$tmp/hv.log")"
	exit 0
fi
timeout 200 "$client" "$tmp/vnc.sock" waitsize 1600 1200 150 > "$tmp/c1.out" 2>&1 &
cpid=$!
for _ in $(seq 1500); do
	grep -q READY "$tmp/serial.log" 2> /dev/null && break
	kill -0 "$hv_pid" 2> /dev/null || break
	sleep 0.1
done
wait $cpid
result vnc-vga-desktop-size $? "$(tr '\n' '|' < "$tmp/c1.out") serial: $(tr '\n' '|' < "$tmp/serial.log")"
out=$(timeout 60 "$client" "$tmp/vnc.sock" size 1600 1200 pixel 0 0 "$(pat 0 0)" \
	pixel 1599 1199 "$(pat 1599 1199)" pixel 777 333 "$(pat 777 333)" \
	pixel 256 1000 "$(pat 256 1000)" 2>&1)
result vnc-vga-guest-pixels $? "$(tr '\n' '|' <<< "$out")"
stop_vm
result vnc-vga-quit $?
