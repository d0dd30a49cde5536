# hv-test: timeout=240
# SDK 2.4 displays and input through the core, with the fixtures
# test_display (a device drawing a known pattern, with input sinks that log
# each batch) and test_view (a graphical frontend logging what it is told):
# hv check refusing a missing or non-graphical console = exactly as hv run;
# the frontend's first surface, refresh-driven updates; screenshots (hv ctl
# and hv screenshot) decoded by an independent PNG reader and compared
# pixel by pixel with the pattern, of a second head, after a mode change,
# while paused, and refused for a blank display; keyboard routing (last
# active keyboard, else the first registered), sendkey/type event order,
# absolute pointing turned into relative motion for a mouse, buttons with
# the pointer, a tablet getting absolute positions once active, no sink
# -> dropped; and bad commands answering one error line with the VM
# unaffected.
set -u
b=${BUILD:-build}
hv=$PWD/$b/hv
here=$PWD/tests/display
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/fx"
cp "$b/fixtures/test_display.so" "$b/fixtures/test_view.so" "$tmp/fx/"
sock=$tmp/ctl.sock

ini() { # ini FILE CONSOLE-OF-disp [extra sections]
	cat > "$1" <<INI
[vm]
name = dispvm
kernel = $PWD/$b/guests/disp-idle.bin
accel = emu
machine = none
plugin_path = $tmp/fx
control = $sock
[device com1]
plugin = uart16550
console = out
[console out]
plugin = logfile
path = $tmp/out
[device disp]
plugin = test_display
heads = 2
input = key,rel
animate = on
console = $2
[console view]
plugin = test_view
log_updates = off
interval_ms = 20
[device kbd2]
plugin = test_display
display = off
input = key
active = off
[device tab]
plugin = test_display
display = off
input = abs
active = off
$3
INI
}

check() { # check NAME CONDITION-STATUS WHY
	if [ "$2" = 0 ]; then echo "ok $1"; else echo "not ok $1 - $3"; fi
}

wait_for() { # wait_for FILE REGEX: 0 once it matches, within 30 s
	for _ in $(seq 300); do
		grep -Eq -- "$2" "$1" 2> /dev/null && return 0
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
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" <<< "$out"; then
		echo "ok $name"
	else
		echo "not ok $name - status $rc (want $want), reply: $out"
	fi
}

# logged NAME REGEX: the VM's log gets a line matching REGEX
logged() {
	wait_for "$tmp/err" "$2"
	check "$1" $? "no line /$2/ in: $(tail -5 "$tmp/err")"
}

png_ok() { # png_ok NAME FILE W H
	local out
	out=$(python3 "$here/pngcheck.py" "$2" "$3" "$4" 2>&1)
	check "$1" $? "$out"
}

# ---- hv check refuses what hv run refuses, with the same line ----
ini "$tmp/missing.ini" nosuch ""
ini "$tmp/textual.ini" out2 "[console out2]
plugin = logfile
path = $tmp/out2"
for f in missing textual; do
	"$hv" check "$tmp/$f.ini" > /dev/null 2> "$tmp/check.err"
	crc=$?
	timeout 60 "$hv" run "$tmp/$f.ini" < /dev/null > /dev/null 2> "$tmp/run.err"
	rrc=$?
	want=$([ $f = missing ] && echo 'console = nosuch: there is no \[console nosuch\] section' ||
		echo 'console = out2: plugin logfile of \[console out2\] is not a graphical console frontend')
	check "check-refuses-$f" "$([ $crc != 0 ] && grep -q "^$tmp/$f.ini:[0-9]*: \[device disp\]: $want" "$tmp/check.err"; echo $?)" \
		"status $crc: $(cat "$tmp/check.err")"
	check "run-refuses-$f-alike" "$([ $rrc != 0 ] && diff -q "$tmp/check.err" "$tmp/run.err" > /dev/null; echo $?)" \
		"status $rrc: check said '$(cat "$tmp/check.err")', run said '$(cat "$tmp/run.err")'"
done

# ---- a VM with displays and input sinks ----
ini "$tmp/vm.ini" view ""
"$hv" run -v "$tmp/vm.ini" < /dev/null 2> "$tmp/err" &
vm=$!
pids+=("$vm")
wait_for "$tmp/out" ready
check vm-starts $? "$(cat "$tmp/err")"
logged first-surface 'view: surface: 640x480 format 1 stride 2560 \(n 1\)'
# the frontend asked for 20 ms refreshes: the moving square arrives as updates
for _ in $(seq 300); do
	u=$("$hv" ctl "$sock" status view | sed -n 's/^updates //p')
	[ "${u:-0}" -ge 5 ] && break
	sleep 0.1
done
check updates-on-refresh "$([ "${u:-0}" -ge 5 ]; echo $?)" "updates ${u:-none}"
check updates-inside "$(grep -q 'outside the' "$tmp/err"; [ $? = 1 ]; echo $?)" \
	"$(grep 'outside the' "$tmp/err" | head -2)"

reply screenshot 0 "^ok $tmp/s.png$" screenshot "$tmp/s.png"
png_ok screenshot-pixels "$tmp/s.png" 640 480
(cd "$tmp" && "$hv" screenshot "$sock" rel.png disp.1 > /dev/null 2>&1)
check hv-screenshot-cli $? "hv screenshot failed"
png_ok hv-screenshot-head2 "$tmp/rel.png" 640 480
reply screenshot-no-display 1 "^error: no display 'nosuch' \(the VM has: disp disp.1\)$" \
	screenshot nosuch "$tmp/x.png"
reply screenshot-missing-dir 1 "^error: $tmp/nodir/x.png: No such file or directory$" \
	screenshot "$tmp/nodir/x.png"

# ---- keyboard: kbd2 and tab inactive, disp active (first registered) ----
reply sendkey 0 '^ok ctrl-alt-delete$' sendkey ctrl-alt-delete
logged sendkey-order 'disp: input: KEY 29 1 KEY 56 1 KEY 111 1 KEY 111 0 KEY 56 0 KEY 29 0$'
reply set-kbd2-active 0 'active = on' set kbd2 active on
reply sendkey-last-active 0 '^ok shift-a$' sendkey shift-a
logged keyboard-last-active 'kbd2: input: KEY 42 1 KEY 30 1 KEY 30 0 KEY 42 0$'
reply type 0 '^ok typed 4 characters$' type 'H i!'
logged type-shifted 'kbd2: input: KEY 42 1 KEY 35 1 KEY 35 0 KEY 42 0$'
logged type-space 'kbd2: input: KEY 57 1 KEY 57 0$'
logged type-bang 'kbd2: input: KEY 42 1 KEY 2 1 KEY 2 0 KEY 42 0$'
# all of a long text, in order, through a queue shorter than it
long=$(python3 -c 'print("abcdefghij" * 60)')
reply type-long 0 '^ok typed 600 characters$' type "$long"
for _ in $(seq 300); do
	n=$(grep -c 'kbd2: input: KEY' "$tmp/err")
	[ "$n" -ge 606 ] && break
	sleep 0.1
done
order=$(grep 'kbd2: input: KEY' "$tmp/err" | tail -600 | awk '{print $5}' | tr '\n' ' ')
want=$(python3 -c 'k=[30,48,46,32,18,33,34,35,23,36]; print(" ".join(str(c) for c in k*60) + " ")')
check type-long-order "$([ "$order" = "$want" ]; echo $?)" "got $(wc -w <<< "$order") keys"
reply set-kbd2-off 0 'active = off' set kbd2 active off
reply sendkey-first 0 '^ok ret$' sendkey ret
logged keyboard-first-registered 'disp: input: KEY 28 1 KEY 28 0$'

# ---- pointer: no tablet active: absolute becomes the mouse's relative ----
reply mouse-abs 0 '^ok mouse abs 320 240$' mouse abs 320 240
logged abs-to-rel 'disp: input: REL 0 320 REL 1 240$'
reply mouse-abs2 0 'ok' mouse abs 330 230 1
logged abs-to-rel-delta 'disp: input: REL 0 10 REL 1 -10 KEY 272 1$'
reply mouse-button-up 0 'ok' mouse rel 0 0 0
logged button-alone 'disp: input: KEY 272 0$'
reply set-tab-active 0 'active = on' set tab active on
reply mouse-tablet 0 'ok' mouse abs 639 479 4
logged tablet-abs 'tab: input: ABS 0 32767 ABS 1 32767 KEY 273 1$'
reply mouse-rel-to-mouse 0 'ok' mouse rel 3 -4
logged rel-to-mouse 'disp: input: REL 0 3 REL 1 -4$'
reply set-disp-inactive 0 'active = off' set disp active off
reply mouse-rel-dropped 1 '^error: no input device of the VM takes it \(dropped\)$' mouse rel 1 1

# ---- bad input: one error line each, the VM unaffected ----
reply sendkey-unknown 1 "^error: unknown key 'foo'" sendkey ctrl-foo
reply sendkey-empty-part 1 "^error: unknown key ''" sendkey ctrl--a
reply sendkey-too-many 1 '^error: more than 16 keys' sendkey a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q
reply type-not-us 1 '^error: character 0xe2 at 2 is not on a US keyboard$' type 'ab€'
reply mouse-outside 1 '^error: mouse abs 640 0: outside the 640x480 display$' mouse abs 640 0
reply mouse-negative 1 '^error: mouse abs: X and Y must be whole numbers' mouse abs -1 0
reply mouse-words 1 '^error: mouse abs: X and Y must be whole numbers' mouse abs x 1
reply mouse-buttons 1 '^error: mouse: BUTTONS is a mask 0..7' mouse rel 1 1 8
reply mouse-huge 1 '^error: mouse rel: DX and DY must be whole numbers' mouse rel 99999999999999999999 1
reply mouse-kind 1 '^error: usage: mouse abs' mouse wheel 1 1
python3 - "$sock" > "$tmp/raw" 2>&1 <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rwb')
for line in [b'type ' + b'x' * 5000, b'type a\x01b', b'info']:
    f.write(line + b'\n')
    f.flush()
    print(f.readline().decode().rstrip())
PY
check huge-type-one-error "$(sed -n 1p "$tmp/raw" | grep -q '^error: ' && [ "$(sed -n 2p "$tmp/raw" | cut -c1-6)" = "error:" ]; echo $?)" "$(cat "$tmp/raw")"
check vm-still-answers "$(sed -n 3p "$tmp/raw" | grep -q '^ok name=dispvm'; echo $?)" "$(cat "$tmp/raw")"

# ---- modes: a new size, blank, and paused ----
reply set-width 0 'width = 800' set disp width 800
logged new-surface 'view: surface: 800x480 format 1 stride 3200 \(n 2\)'
reply screenshot-800 0 ok screenshot "$tmp/w.png"
png_ok screenshot-800-pixels "$tmp/w.png" 800 480
reply pause 0 '^ok paused$' pause
reply screenshot-paused 0 ok screenshot disp "$tmp/p.png"
png_ok screenshot-paused-pixels "$tmp/p.png" 800 480
reply resume 0 '^ok running$' resume
reply set-blank 0 'blank = on' set disp blank on
logged blank-surface 'view: surface: 0x0 format 0 stride 0 \(n 3\)'
echo keep > "$tmp/keep.png"
reply screenshot-blank 1 '^error: display disp is blank \(no signal\)$' screenshot "$tmp/keep.png"
check blank-leaves-file "$(grep -qx keep "$tmp/keep.png"; echo $?)" "the file changed"
reply mouse-abs-blank 1 '^error: mouse abs: no display shows a picture' mouse abs 1 1
reply info 0 '^ok name=dispvm .* state=running$' info

reply quit 0 '^ok quitting$' quit
for _ in $(seq 300); do kill -0 "$vm" 2> /dev/null || break; sleep 0.1; done
wait "$vm"
check quit-exit-0 $? "$(tail -3 "$tmp/err")"
check no-errors "$(grep -Eq 'ERROR|error:|AddressSanitizer|runtime error' "$tmp/err"; [ $? = 1 ]; echo $?)" \
	"$(grep -E 'ERROR|error:|AddressSanitizer|runtime error' "$tmp/err" | head -3)"
