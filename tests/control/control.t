# hv-test: timeout=120
# The control socket: a guest that prints the byte a fixture device
# (runtime-dev) exposes for its run-time key `level`, driven by hv ctl and
# by raw connections: every command's reply, a run-time change reaching the
# device and the guest, a refused change restoring the old value,
# non-run-time keys, type and range errors, over-long and malformed lines
# on a connection that stays usable, pause really stopping the guest, a
# live socket refused, a stale one replaced, the socket gone at exit, quit
# ending hv with 0, and hv check refusing bad control paths.
set -u
b=${BUILD:-build}
hv=$PWD/$b/hv
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/fx"
cp "$b/fixtures/runtime_dev.so" "$tmp/fx/"
sock=$tmp/ctl.sock

ini() { # ini FILE [control line]
	cat > "$1" <<INI
[vm]
name = knobvm
kernel = $PWD/$b/guests/ctl-level.bin
accel = emu
machine = none
plugin_path = $tmp/fx
$2
[device com1]
plugin = uart16550
console = out
[console out]
plugin = logfile
path = $tmp/out
[device knob]
plugin = runtime-dev
INI
}

check() { # check NAME CONDITION-STATUS WHY
	if [ "$2" = 0 ]; then echo "ok $1"; else echo "not ok $1 - $3"; fi
}

wait_for() { # wait_for FILE REGEX: 0 once it matches, within 20 s
	for _ in $(seq 200); do
		grep -Eq "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
	done
	return 1
}

# reply NAME WANT-STATUS WANT-REGEX ARGS...: one hv ctl command
reply() {
	local name=$1 want=$2 re=$3 out rc
	shift 3
	out=$("$hv" ctl "$sock" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && grep -Eq "$re" <<< "$out"; then
		echo "ok $name"
	else
		echo "not ok $name - status $rc (want $want), reply: $out"
	fi
}

start() { # start INI [hv run options]: hv in the background, pid in $vm
	local f=$1
	shift
	rm -f "$tmp/out"
	"$hv" run -v "$@" "$f" < /dev/null 2> "$tmp/err" &
	vm=$!
	pids+=("$vm")
}

stopped() { # stopped: hv's exit status once it ends (within 20 s), else 124
	for _ in $(seq 200); do
		kill -0 "$vm" 2> /dev/null || { wait "$vm"; return $?; }
		sleep 0.1
	done
	return 124
}

ini "$tmp/vm.ini" "control = ctl.sock" # relative: beside the INI
start "$tmp/vm.ini"
wait_for "$tmp/out" 'level=07'
check control-starts $? "no level=07 from the guest: $(cat "$tmp/err")"
[ -S "$sock" ] && mode=$(stat -c %a "$sock")
check socket-mode-0600 "$([ "${mode:-}" = 600 ]; echo $?)" "mode ${mode:-none}"

reply help 0 '^ok commands: set SECTION KEY VALUE; get SECTION KEY; info; pause; resume; quit; status SECTION \[json\]; screenshot \[DISPLAY\] PATH.png; sendkey KEYS \(ctrl-alt-delete\); type TEXT; mouse abs X Y \[BUTTONS\] \| mouse rel DX DY \[BUTTONS\]; help$' help
reply info 0 '^ok name=knobvm accel=emu vcpus=1 memory=128MiB state=running$' info
reply get-default 0 '^ok 7$' get knob level
reply get-vm-key 0 '^ok 128M$' get vm memory
reply get-kind-id 0 '^ok uart16550$' get device:com1 plugin
reply set-runtime 0 '^ok level = 42$' set knob level 42
wait_for "$tmp/out" 'level=2a'
check set-reaches-guest $? "guest did not print level=2a: $(tr '\r\n' '  ' < "$tmp/out")"
grep -q 'knob: config_changed: level = 42' "$tmp/err"
check set-calls-config-changed $? "no config_changed line: $(cat "$tmp/err")"
reply get-sees-set 0 '^ok 42$' get knob level
reply refused-change 1 '^error: \[device knob\]: level = 13: refused by the device' set knob level 13
reply refused-restores 0 '^ok 42$' get knob level
grep -q 'refusing level 13' "$tmp/err"
check refused-device-said-why $? "$(cat "$tmp/err")"
reply set-enum 0 '^ok mode = fast$' set knob mode fast
reply non-runtime-key 1 '^error: \[device knob\]: key port cannot change while the VM runs$' set knob port 0x530
reply non-runtime-core-key 1 '^error: \[device com1\]: key console cannot change while the VM runs$' set com1 console x
reply vm-key 1 'key memory cannot change while the VM runs$' set vm memory 1G
reply type-error 1 '^error: \[device knob\]: level = x: expected an integer$' set knob level x
reply range-error 1 '^error: \[device knob\]: level = 100: out of range$' set knob level 100
reply choice-error 1 'mode = medium: not one of the choices; choose one of slow\|fast$' set knob mode medium
reply type-error-kept 0 '^ok 42$' get knob level
reply unknown-key 1 "^error: \[device knob\]: no key 'nope'" get knob nope
reply bad-section 1 "^error: there is no section 'nope'" set nope level 1
reply unknown-command 1 "^error: unknown command 'frobnicate'" frobnicate
reply usage-error 1 '^error: usage: set SECTION KEY VALUE$' set knob level
reply too-many-args 1 '^error: usage: info$' info now
# status (SDK 2.3): the core's first line or JSON members, the plugin's
# report (runtime-dev's status op), the core's facts alone for a plugin
# without one; a report past the first 64 KiB buffer; one past HV_OUT_MAX
"$hv" ctl "$sock" status knob > "$tmp/st" 2>&1
rc=$?
check status-text "$([ $rc = 0 ] && [ "$(sed -n 1p "$tmp/st")" = '[device knob] (runtime-dev)' ] &&
	grep -qx 'level 42' "$tmp/st" && grep -qx 'changes 2' "$tmp/st" && grep -qx 'mode fast' "$tmp/st"; echo $?)" "status $rc: $(cat "$tmp/st")"
json_check() { # json_check NAME FILE PYTHON-EXPR (j is the object)
	python3 -m json.tool "$2" > /dev/null 2>&1 &&
		python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3"
	check "$1" $? "$(head -c 400 "$2")"
}
"$hv" ctl "$sock" status device:knob json > "$tmp/st.json" 2>&1
json_check status-json "$tmp/st.json" \
	'j["section"]=="device knob" and j["plugin"]=="runtime-dev" and j["level"]==42 and j["mode"]=="fast" and j["filler"]==[] and list(j)[:2]==["section","plugin"]'
"$hv" ctl "$sock" status com1 > "$tmp/st" 2>&1
check status-no-op-text "$([ "$(sed -n 1p "$tmp/st")" = '[device com1] (uart16550)' ] &&
	grep -q '^device plugin uart16550.*, running$' "$tmp/st" && [ "$(wc -l < "$tmp/st")" = 2 ]; echo $?)" "$(cat "$tmp/st")"
"$hv" ctl "$sock" status com1 json > "$tmp/st.json" 2>&1
json_check status-no-op-json "$tmp/st.json" 'j=={"section":"device com1","plugin":"uart16550","kind":"device","created":True}'
"$hv" ctl "$sock" status console:out json > "$tmp/st.json" 2>&1
json_check status-backend-json "$tmp/st.json" 'j["section"]=="console out" and j["attached_to"]=="device com1"'
reply status-vm 1 '^error: \[vm\] is the VM, not an instance: see info$' status vm
reply status-bad-section 1 "^error: there is no section 'nope'" status nope
reply status-bad-format 1 '^error: usage: status SECTION \[json\]$' status knob xml
reply status-usage 1 '^error: usage: status SECTION \[json\]$' status
reply set-report-1m 0 '^ok report_kib = 1024$' set knob report_kib 1024
"$hv" ctl "$sock" status knob > "$tmp/st" 2>&1
check status-text-grows "$([ "$(wc -l < "$tmp/st")" = $((1 + 3 + 16384)) ] &&
	[ "$(tail -n 1 "$tmp/st")" = "filler 00016383 $(printf '%47s' '"quoted\"')" ]; echo $?)" \
	"$(wc -lc < "$tmp/st") $(tail -n 1 "$tmp/st")"
"$hv" ctl "$sock" status knob json > "$tmp/st.json" 2>&1
json_check status-json-grows "$tmp/st.json" \
	'len(j["filler"])==16384 and j["filler"][-1]=="00016383 \"quoted\\\"" and j["level"]==42'
reply set-report-8m 0 '^ok report_kib = 8192$' set knob report_kib 8192
reply status-too-big 1 '^error: \[device knob\]: the report is larger than HV_OUT_MAX \(4 MiB\)$' status knob
# the framing on the wire: "ok+ LEN", LEN bytes, and the next reply
# after them on the same connection, read slowly (the queue waits)
python3 - "$sock" > "$tmp/raw" 2>&1 <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"status knob json\ninfo\n")
time.sleep(0.5)
buf = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    buf += d
    head, _, rest = buf.partition(b"\n")
    if head.startswith(b"ok+ ") and len(rest) > int(head[4:]) and rest[int(head[4:]):].endswith(b"\n"):
        break
head, _, rest = buf.partition(b"\n")
n = int(head[4:])
body, after = rest[:n], rest[n:]
ok = head.startswith(b"ok+ ") and body.endswith(b"}\n") and after.startswith(b"ok name=knobvm")
print("framed" if ok else "bad %r %r %r" % (head, body[-20:], after[:40]))
PY
grep -qx framed "$tmp/raw"
check status-framing-pipelined $? "$(head -c 300 "$tmp/raw")"
reply set-report-0 0 '^ok report_kib = 0$' set knob report_kib 0
reply status-after-too-big 0 '^level 42$' status knob

grep -q 'level=0d' "$tmp/out"
check refused-never-reached-guest "$([ $? = 1 ]; echo $?)" "guest saw level 13"

# one raw connection: an over-long line, a control byte, a blank line and
# pipelined commands each answered in order, the connection still usable
python3 - "$sock" > "$tmp/raw" 2>&1 <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"get knob " + b"x" * 5000 + b"\n")
s.sendall(b"info\n\n   \nget knob\x01 level\r\nget knob level\n")
buf = b""
while buf.count(b"\n") < 4:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.decode(errors="replace"), end="")
PY
sed -n 1p "$tmp/raw" | grep -q '^error: line longer than 4096 bytes$'
check long-line-refused $? "$(head -c 300 "$tmp/raw")"
sed -n 2p "$tmp/raw" | grep -q '^ok name=knobvm'
check long-line-connection-usable $? "$(head -c 300 "$tmp/raw")"
sed -n 3p "$tmp/raw" | grep -q '^error: the line holds a control character$'
check control-byte-refused $? "$(head -c 300 "$tmp/raw")"
sed -n 4p "$tmp/raw" | grep -q '^ok 42$'
check crlf-and-pipelining "$?" "$(head -c 300 "$tmp/raw")"

# pause parks the guest: a change made while paused shows only on resume
reply pause 0 '^ok paused$' pause
reply info-paused 0 'state=paused$' info
reply pause-again 0 '^ok paused \(already\)$' pause
reply set-while-paused 0 '^ok level = 50$' set knob level 50
sleep 1
grep -q 'level=32' "$tmp/out"
check pause-stops-guest "$([ $? = 1 ]; echo $?)" "the paused guest printed level=32"
reply resume 0 '^ok running$' resume
wait_for "$tmp/out" 'level=32'
check resume-runs-guest $? "no level=32 after resume"
reply resume-again 0 '^ok running \(was not paused\)$' resume

# a second VM on the same socket is refused with the INI's line
"$hv" run "$tmp/vm.ini" < /dev/null > /dev/null 2> "$tmp/err2"
rc=$?
grep -Eq "vm.ini:7: \[vm\]: control = $sock: another VM listens there" "$tmp/err2"
said=$?
check live-socket-refused "$([ $rc = 1 ] && [ $said = 0 ]; echo $?)" "status $rc: $(cat "$tmp/err2")"
reply first-vm-unharmed 0 '^ok 50$' get knob level

reply quit 0 '^ok quitting$' quit
stopped
rc=$?
check quit-exits-0 "$([ $rc = 0 ]; echo $?)" "hv ended with $rc: $(cat "$tmp/err")"
check socket-removed-at-exit "$([ ! -e "$sock" ]; echo $?)" "$sock still there"
out=$("$hv" ctl "$sock" info 2>&1)
rc=$?
check ctl-no-vm "$([ $rc = 2 ] && grep -q "^hv: ctl: $sock: no VM listens there$" <<< "$out"; echo $?)" "status $rc: $out"

# a stale socket (its owner gone without unlinking) is replaced; --control
# overrides the INI's key
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$tmp/stale.sock"
start "$tmp/vm.ini" --control="$tmp/stale.sock"
wait_for "$tmp/out" 'level=07'
sock=$tmp/stale.sock
reply stale-socket-replaced 0 '^ok name=knobvm' info
check control-option-overrides "$([ ! -e "$tmp/ctl.sock" ]; echo $?)" "the INI's socket was made"
reply pause-before-quit 0 '^ok paused$' pause
reply quit-while-paused 0 '^ok quitting$' quit
stopped
check paused-quit-exits-0 $? "$(cat "$tmp/err")"

# hv check and hv run refuse a bad control path, with the INI's line
long=$tmp/$(printf 'd%.0s' $(seq 120)).sock
touch "$tmp/plain"
for c in "nodir:$tmp/no/such/dir/c.sock:directory" "file:$tmp/plain:exists and is not a socket" \
	"long:$long:too long for a unix socket address"; do
	name=${c%%:*} rest=${c#*:}
	path=${rest%:*} want=${rest##*:}
	ini "$tmp/bad.ini" "control = $path"
	out=$("$hv" check "$tmp/bad.ini" 2>&1 > /dev/null)
	rc=$?
	grep -q "bad.ini:7: \[vm\]: control = .*$want" <<< "$out"
	said=$?
	check "check-refuses-$name" "$([ $rc = 1 ] && [ $said = 0 ]; echo $?)" "status $rc: $out"
done
out=$("$hv" run --control="$tmp/plain" "$tmp/vm.ini" 2>&1 < /dev/null)
rc=$?
check run-option-refuses-file "$([ $rc = 1 ] && grep -q "^hv: --control=$tmp/plain: exists and is not a socket$" <<< "$out"; echo $?)" "status $rc: $out"
[ -f "$tmp/plain" ]
check refused-file-kept $? "hv removed a file that was not its socket"
