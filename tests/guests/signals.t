# SIGINT and SIGTERM stop a running VM; hv exits with 128 + the signal.
set -u
b=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/vm.ini" <<INI
[vm]
kernel = $PWD/$b/guests/echo.bin
[device com1]
plugin = uart16550
console = out
[console out]
plugin = logfile
path = $tmp/out
INI
for sig in INT TERM; do
	"$b/hv" run -q "$tmp/vm.ini" < /dev/null 2> "$tmp/err" &
	pid=$!
	for _ in $(seq 50); do
		grep -q ready "$tmp/out" 2>/dev/null && break
		sleep 0.1
	done
	kill -$sig $pid
	timeout 10 tail --pid=$pid -f /dev/null
	wait $pid
	rc=$?
	want=$((128 + $(kill -l $sig)))
	if [ "$rc" = "$want" ] && grep -q ready "$tmp/out"; then
		echo "ok signal-$sig-stops-vm"
	else
		echo "not ok signal-$sig-stops-vm - status $rc, want $want: $(cat "$tmp/err")"
	fi
	rm -f "$tmp/out"
done
