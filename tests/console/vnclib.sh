# Shared by tests/console/vnc*.t: a VM whose display is the test_display
# fixture (its pattern R = x, G = y, B = x + y, mod 256; an input sink
# that logs each batch), its console the vnc plugin, a guest that only
# idles; hv runs with -v so the chosen port and the input lines show.
b=${BUILD:-build}
hv=$PWD/$b/hv
client=$PWD/$b/tests/vncclient
tmp=$(mktemp -d)
hv_pid=
# the fixture alone: build's fixtures directory holds refused ones too
mkdir "$tmp/fixtures"
cp "$b/fixtures/test_display.so" "$tmp/fixtures/"
cleanup() {
	[ -n "$hv_pid" ] && kill "$hv_pid" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# write_ini VNC_KEYS [DISPLAY_KEYS]: $tmp/vm.ini
write_ini() {
	cat > "$tmp/vm.ini" <<INI
[vm]
accel = emu
memory = 16M
kernel = $PWD/$b/guests/disp-idle.bin
plugin_path = $tmp/fixtures
control = $tmp/ctl.sock
[device com1]
plugin = uart16550
console = serial
[console serial]
plugin = logfile
path = $tmp/serial.log
[device disp]
plugin = test_display
input = key,abs,rel
console = vnc
${2:-}
[console vnc]
plugin = vnc
$1
INI
}

# start_vm: hv runs $tmp/vm.ini; $port is the VNC port it chose (or the
# unix socket is there). 0 when it is up.
start_vm() {
	: > "$tmp/hv.log"
	"$hv" run -v "$tmp/vm.ini" > "$tmp/hv.log" 2>&1 &
	hv_pid=$!
	port=
	for _ in $(seq 300); do
		if grep -q 'VNC on' "$tmp/hv.log" && [ -S "$tmp/ctl.sock" ]; then
			port=$(grep -o 'VNC on 127.0.0.1:[0-9]*' "$tmp/hv.log" | grep -o '[0-9]*$')
			return 0
		fi
		kill -0 "$hv_pid" 2> /dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_vm() {
	"$hv" ctl "$tmp/ctl.sock" quit > /dev/null 2>&1
	for _ in $(seq 100); do
		kill -0 "$hv_pid" 2> /dev/null || break
		sleep 0.1
	done
	kill -9 "$hv_pid" 2> /dev/null
	wait "$hv_pid" 2> /dev/null
	local rc=$?
	hv_pid=
	return $rc
}

alive() { kill -0 "$hv_pid" 2> /dev/null && "$hv" ctl "$tmp/ctl.sock" info > /dev/null 2>&1; }

# wait_log PATTERN [TENTHS]: the hv log shows a line matching PATTERN
wait_log() {
	for _ in $(seq "${2:-100}"); do
		grep -qE "$1" "$tmp/hv.log" && return 0
		sleep 0.1
	done
	return 1
}

# result NAME OK [WHY]
result() {
	if [ "$2" = 0 ]; then echo "ok $1"; else echo "not ok $1 - ${3:-}"; fi
}
