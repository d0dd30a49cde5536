# hv-test: timeout=300
# The VNC frontend against the test_display fixture, with real viewers:
# tests/console/vncclient (Debian's libvncclient, raw encoding: exact
# pixels) and vncsnapshot (JPEG: pixels within a tolerance). Keys and the
# pointer reach the fixture's input sink as evdev codes (its log lines);
# a DesktopSize change follows the display; damage arrives as incremental
# updates; several viewers at once; no
# refreshes without a viewer; password on/off; a unix socket; hv check
# refuses a non-loopback listen without public = on.
set -u
. tests/console/vnclib.sh
py=/usr/bin/python3 # Debian's, with python3-pil

pat() { printf '%02x%02x%02x' $(($1 & 255)) $(($2 & 255)) $((($1 + $2) & 255)); }

write_ini "listen = 127.0.0.1:0"
if ! start_vm; then
	echo "not ok vnc-start - $(tr '\n' '|' < "$tmp/hv.log")"
	exit 0
fi
result vnc-port-printed "$([ -n "$port" ]; echo $?)"

out=$(timeout 60 "$client" 127.0.0.1:$port size 640 480 pixel 0 0 "$(pat 0 0)" \
	pixel 639 479 "$(pat 639 479)" pixel 300 200 "$(pat 300 200)" \
	pixel 17 255 "$(pat 17 255)" 2>&1)
result vnc-raw-pixels $? "$(tr '\n' '|' <<< "$out")"

# keys: 'A' (shift pressed for it), 'a', the viewer's own shift with '!',
# Return, 'z'; then the pointer: corners scaled to 0..0x7fff, VNC buttons
# 1/2/4 as BTN_LEFT 272 / BTN_MIDDLE 274 / BTN_RIGHT 273, the wheel (8/16)
mark=$(wc -l < "$tmp/hv.log")
timeout 60 "$client" 127.0.0.1:$port key 0x41 key 0x61 down 0xffe1 key 0x21 \
	up 0xffe1 key 0xff0d key 0x7a ptr 639 479 1 ptr 320 240 4 ptr 0 0 2 \
	ptr 0 0 8 ptr 0 0 0 ptr 0 0 16 ptr 0 0 0 > "$tmp/keys.out" 2>&1
want='KEY 42 1 KEY 30 1|KEY 30 0 KEY 42 0|KEY 30 1|KEY 30 0|KEY 42 1|KEY 2 1|KEY 2 0|KEY 42 0|KEY 28 1|KEY 28 0|KEY 44 1|KEY 44 0|ABS 0 32767 ABS 1 32767 KEY 272 1|ABS 0 16409 ABS 1 16417 KEY 272 0 KEY 273 1|ABS 0 0 ABS 1 0 KEY 274 1 KEY 273 0|ABS 0 0 ABS 1 0 KEY 274 0|REL 8 1|ABS 0 0 ABS 1 0|ABS 0 0 ABS 1 0|REL 8 -1|ABS 0 0 ABS 1 0'
wait_log 'REL 8 -1' 50
got() { tail -n +$((mark + 1)) "$tmp/hv.log" | sed -n 's/.*disp: input: //p' | tr '\n' '|' | sed 's/|$//'; }
keys=$(got)
result vnc-keys-pointer "$([ "$keys" = "$want" ]; echo $?)" "got: $keys"

# a viewer that leaves with a key down: the key comes up
mark=$(wc -l < "$tmp/hv.log")
timeout 60 "$client" 127.0.0.1:$port down 0x62 sleep 200 > /dev/null 2>&1
wait_log 'KEY 48 0' 50
result vnc-release-on-disconnect "$([ "$(got)" = 'KEY 48 1|KEY 48 0' ]; echo $?)" "got: $(got)"

# no viewer: no refreshes; a viewer: about 30 a second
refreshes() { "$hv" ctl "$tmp/ctl.sock" status disp | sed -n 's/^refreshes //p'; }
sleep 0.5
r0=$(refreshes); sleep 1.5; r1=$(refreshes)
timeout 60 "$client" 127.0.0.1:$port sleep 1500 > /dev/null 2>&1 &
cpid=$!
sleep 0.3; r2=$(refreshes); sleep 1; r3=$(refreshes)
wait $cpid
result vnc-idle-no-refresh "$([ "$r0" = "$r1" ] && [ $((r3 - r2)) -ge 5 ]; echo $?)" \
	"idle $r0 -> $r1, watched $r2 -> $r3"

# DesktopSize: the display changes mode while a viewer watches; a second
# viewer at the same time sees it too
for i in 1 2; do
	timeout 60 "$client" 127.0.0.1:$port size 640 480 waitsize 800 600 30 \
		pixel 799 599 "$(pat 799 599)" pixel 700 500 "$(pat 700 500)" \
		> "$tmp/resize$i.out" 2>&1 &
	eval cpid$i=$!
done
sleep 1
"$hv" ctl "$tmp/ctl.sock" set disp width 800 > /dev/null
"$hv" ctl "$tmp/ctl.sock" set disp height 600 > /dev/null
wait $cpid1; rc1=$?
wait $cpid2; rc2=$?
result vnc-desktop-size-two-viewers "$([ $rc1 = 0 ] && [ $rc2 = 0 ]; echo $?)" \
	"$(cat "$tmp"/resize*.out | tr '\n' '|')"

# vncsnapshot (TightVNC's, JPEG only): the size and pixels within 24
if timeout 60 vncsnapshot -quiet -allowblank -quality 100 127.0.0.1::$port "$tmp/snap.jpg" \
	> "$tmp/snap.log" 2>&1; then
	out=$($py - "$tmp/snap.jpg" <<'PY' 2>&1
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert('RGB')
w, h = im.size
assert (w, h) == (800, 600), 'size %dx%d' % (w, h)
px = im.load()
worst = 0
for y in range(4, h - 4, 37):
    for x in range(4, w - 4, 41):
        want = (x & 255, y & 255, (x + y) & 255)
        d = max(abs(a - b) for a, b in zip(px[x, y], want))
        # JPEG smears the mod-256 wrap edges: judge smooth places only
        if (x & 255) in range(8, 248) and (y & 255) in range(8, 248) and ((x + y) & 255) in range(8, 248):
            worst = max(worst, d)
assert worst <= 24, 'worst difference %d' % worst
print('800x600, worst difference %d' % worst)
PY
	)
	result vnc-vncsnapshot $? "$out"
else
	result vnc-vncsnapshot 1 "vncsnapshot failed: $(tr '\n' '|' < "$tmp/snap.log")"
fi

# blank: a black 640x480
"$hv" ctl "$tmp/ctl.sock" set disp blank on > /dev/null
out=$(timeout 60 "$client" 127.0.0.1:$port waitsize 640 480 20 pixel 100 100 000000 2>&1)
result vnc-blank-black $? "$(tr '\n' '|' <<< "$out")"
alive
result vnc-hv-alive $?
stop_vm
result vnc-quit $?

# a password: the right one gets in, a wrong one and none are refused
printf 'sesame\n' > "$tmp/pw"
for how in "password = secret" "password_file = $tmp/pw"; do
	write_ini "listen = 127.0.0.1:0
$how"
	start_vm || { echo "not ok vnc-password-start - $(tr '\n' '|' < "$tmp/hv.log")"; continue; }
	pw=secret
	[[ $how = password_file* ]] && pw=sesame
	VNC_PASSWORD=$pw timeout 60 "$client" 127.0.0.1:$port pixel 5 5 "$(pat 5 5)" > "$tmp/pw.out" 2>&1
	ok_rc=$?
	VNC_PASSWORD=wrong timeout 60 "$client" 127.0.0.1:$port size 640 480 > "$tmp/pw-bad.out" 2>&1
	bad_rc=$?
	result "vnc-${how%% *}-right" $ok_rc "$(tr '\n' '|' < "$tmp/pw.out")"
	result "vnc-${how%% *}-wrong-refused" "$([ $bad_rc != 0 ] && grep -q 'FAIL connect' "$tmp/pw-bad.out"; echo $?)" \
		"$(tr '\n' '|' < "$tmp/pw-bad.out")"
	stop_vm
done

# a unix socket
write_ini "listen = unix:$tmp/vnc.sock"
if start_vm && [ -S "$tmp/vnc.sock" ]; then
	out=$(timeout 60 "$client" "$tmp/vnc.sock" size 640 480 pixel 33 44 "$(pat 33 44)" 2>&1)
	result vnc-unix-socket $? "$(tr '\n' '|' <<< "$out")"
	stop_vm
	result vnc-unix-socket-removed "$([ ! -e "$tmp/vnc.sock" ]; echo $?)"
else
	echo "not ok vnc-unix-socket - $(tr '\n' '|' < "$tmp/hv.log")"
fi

# damage: the fixture's animated square (16x16, 16 pixels right every
# 50 ms along the top) reaches a viewer through incremental updates:
# white while it passes, the pattern again after
write_ini "listen = 127.0.0.1:0" "animate = on"
if start_vm; then
	out=$(timeout 60 "$client" 127.0.0.1:$port waitpixel 328 8 ffffff 15 \
		waitpixel 328 8 "$(pat 328 8)" 15 waitpixel 328 8 ffffff 15 2>&1)
	result vnc-damage-updates $? "$(tr '\n' '|' <<< "$out")"
	stop_vm
else
	echo "not ok vnc-damage-updates - $(tr '\n' '|' < "$tmp/hv.log")"
fi

# hv check refuses what hv run would: one line naming the key
check() { write_ini "$1"; "$hv" check "$tmp/vm.ini" > "$tmp/check.out" 2>&1; }
check "listen = 0.0.0.0:5900"
result vnc-check-public-refused "$([ $? != 0 ] && grep -q 'listen = 0.0.0.0:5900: not a loopback' "$tmp/check.out"; echo $?)" \
	"$(tr '\n' '|' < "$tmp/check.out")"
check "listen = 0.0.0.0:5900
public = on"
result vnc-check-public-on $? "$(tr '\n' '|' < "$tmp/check.out")"
check "listen = [::1]:5900"
result vnc-check-ipv6-loopback $? "$(tr '\n' '|' < "$tmp/check.out")"
check "listen = [::]:5900"
result vnc-check-ipv6-any-refused "$([ $? != 0 ] && grep -q 'not a loopback' "$tmp/check.out"; echo $?)" \
	"$(tr '\n' '|' < "$tmp/check.out")"
check "listen = nonsense"
result vnc-check-bad-listen "$([ $? != 0 ] && grep -q 'listen = nonsense' "$tmp/check.out"; echo $?)" \
	"$(tr '\n' '|' < "$tmp/check.out")"
check "password = a
password_file = /etc/hostname"
result vnc-check-two-passwords "$([ $? != 0 ] && grep -q 'password and password_file' "$tmp/check.out"; echo $?)" \
	"$(tr '\n' '|' < "$tmp/check.out")"
write_ini "listen = 0.0.0.0:0"
"$hv" run "$tmp/vm.ini" > "$tmp/run.out" 2>&1
result vnc-run-public-refused "$([ $? != 0 ] && grep -q 'not a loopback' "$tmp/run.out"; echo $?)" \
	"$(tr '\n' '|' < "$tmp/run.out")"
