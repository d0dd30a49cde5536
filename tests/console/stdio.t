# The stdio console on a real terminal (a pty from script(1)): typed bytes
# reach the guest's UART, Ctrl-A x quits, Ctrl-A Ctrl-A types a Ctrl-A.
set -u
b=${BUILD:-build}
hv=$PWD/$b/hv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/vm.ini" <<INI
[vm]
accel = ${HV_CONSOLE_ACCEL:-auto}
kernel = $PWD/$b/guests/echo.bin
[device com1]
plugin = uart16550
console = tty
[console tty]
plugin = stdio
[device exit]
plugin = debug-exit
INI
# run_tty INPUT: hv in a pty, INPUT typed after the guest is up
run_tty() {
	rm -f "$tmp/out"
	# type only once the guest has said "ready": before hv puts the pty in
	# raw mode the line discipline would echo the keys itself
	(for _ in $(seq 150); do
		grep -q ready "$tmp/out" 2>/dev/null && break
		sleep 0.1
	done
	printf "$1"; sleep 2) |
		timeout -s KILL 20 script -qfec "$hv run -q $tmp/vm.ini" /dev/null > "$tmp/out" 2>&1
	echo $?
}
rc=$(run_tty 'hello\001\001q')
out=$(tr -d '\r\n' < "$tmp/out")
if [ "$rc" = 0 ] && [ "$out" = "readyHELLO^Abye" ]; then
	echo "ok stdio-typed-input"
else
	echo "not ok stdio-typed-input - status $rc, output: $(tr '\n' '|' <<< "$out")"
fi
start=$(date +%s)
rc=$(run_tty '\001x')
out=$(tr -d '\r' < "$tmp/out")
if [ "$rc" = 0 ] && grep -q '^ready' <<< "$out" && ! grep -q bye <<< "$out"; then
	echo "ok stdio-escape-quits"
else
	echo "not ok stdio-escape-quits - status $rc, output: $(tr '\n' '|' <<< "$out")"
fi
