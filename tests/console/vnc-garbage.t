# hv-test: timeout=300
# Bad VNC clients never hurt hv or the VM: random bytes, truncated and
# stalled handshakes, HTTP garbage, cut text past libvncserver's 1 MiB
# limit, viewers that vanish in the middle of a 1600x1200 update or stop
# reading, 50 viewers connecting at once. The guest prints "tick" lines
# all along (its serial log keeps growing), hv answers its control socket,
# and a well-behaved viewer still gets exact pixels at the end.
# (libFuzzer over the same input: vnc-fuzz.t)
set -u
. tests/console/vnclib.sh
py=/usr/bin/python3

pat() { printf '%02x%02x%02x' $(($1 & 255)) $(($2 & 255)) $((($1 + $2) & 255)); }
write_ini "listen = 127.0.0.1:0"
sed -i "s|guests/disp-idle.bin|guests/disp-tick.bin|" "$tmp/vm.ini"
if ! start_vm; then
	echo "not ok vnc-garbage-start - $(tr '\n' '|' < "$tmp/hv.log")"
	exit 0
fi
ticks() { grep -c tick "$tmp/serial.log" 2> /dev/null || echo 0; }
# still_fine NAME: hv answers, the guest printed since the last call
last=$(ticks)
still_fine() {
	local now
	for _ in $(seq 100); do
		now=$(ticks)
		[ "$now" -gt "$last" ] && break
		sleep 0.1
	done
	alive && [ "$now" -gt "$last" ]
	result "$1" $? "hv alive: $(alive && echo yes || echo no), ticks $last -> $now"
	last=$now
}

$py - "$port" random <<'PY'
import os, socket, sys, time
port = int(sys.argv[1])
for i in range(20):
    s = socket.create_connection(('127.0.0.1', port))
    try:
        s.sendall(os.urandom(4096))
        s.settimeout(2)
        s.recv(100)
    except OSError:
        pass
    s.close()
PY
still_fine vnc-garbage-random-bytes

$py - "$port" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(('127.0.0.1', port))
    s.settimeout(3)
    return s
cases = [b'', b'RFB 003.0', b'RFB 003.008\n', b'RFB 003.008\n\x01',
         b'RFB 003.008\n\x01\x01\x02\x00', b'RFB 009.999\n', b'RFB 003.003\n\x01\x05',
         b'GET / HTTP/1.1\r\n', b'GET /' + b'a' * 5000, b'GET /websockify HTTP/1.1\r\nUpgrade: websocket\r\n\r\n',
         b'\x16\x03\x01\x00\x05hello', b'RFB 003.008\n\x02' + b'\0' * 16]
for c in cases:
    s = conn()
    try:
        s.sendall(c)
        time.sleep(0.05)
    except OSError:
        pass
    s.close()
# a handshake that stalls halfway and never finishes: dropped, not waited for
s = conn()
s.sendall(b'RFB 003.0')
time.sleep(2)
s.close()
PY
still_fine vnc-garbage-truncated-handshakes

# cut text: 1 MiB is taken (and dropped: no guest clipboard), past 1 MiB
# libvncserver drops the viewer before reading it
out=$(timeout 60 "$client" 127.0.0.1:$port cut 1048576 pixel 3 3 "$(pat 3 3)" 2>&1)
result vnc-garbage-cut-1mib $? "$(tr '\n' '|' <<< "$out")"
timeout 60 "$client" 127.0.0.1:$port cut 3000000 sleep 500 pixel 3 3 "$(pat 3 3)" > "$tmp/cut.out" 2>&1
result vnc-garbage-cut-huge-dropped "$([ $? != 0 ]; echo $?)" "$(tr '\n' '|' < "$tmp/cut.out")"
still_fine vnc-garbage-cut-hv-fine

# a large screen; viewers that ask for all of it and vanish (RST with the
# update unread) or stop reading altogether
"$hv" ctl "$tmp/ctl.sock" set disp width 1600 > /dev/null
"$hv" ctl "$tmp/ctl.sock" set disp height 1200 > /dev/null
$py - "$port" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
def viewer(rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(('127.0.0.1', port))
    s.settimeout(5)
    s.recv(12)
    s.sendall(b'RFB 003.008\n')
    n = s.recv(1)[0]
    s.recv(n)
    s.sendall(b'\x01')
    s.recv(4)
    s.sendall(b'\x01')
    s.recv(24)
    s.sendall(b'\x02\0' + struct.pack('>Hi', 1, 0))  # raw only
    s.sendall(b'\x03\0' + struct.pack('>HHHH', 0, 0, 1600, 1200))
    return s
for i in range(10):
    s = viewer()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()  # reset, with the update in flight
stuck = viewer(4096)
for i in range(5):
    stuck.sendall(b'\x03\0' + struct.pack('>HHHH', 0, 0, 1600, 1200))
time.sleep(8)  # it never reads: hv drops it
stuck.close()
PY
still_fine vnc-garbage-vanish-mid-update
out=$(timeout 60 "$client" 127.0.0.1:$port size 1600 1200 pixel 1599 1199 "$(pat 1599 1199)" 2>&1)
result vnc-garbage-large-still-served $? "$(tr '\n' '|' <<< "$out")"
"$hv" ctl "$tmp/ctl.sock" set disp width 640 > /dev/null
"$hv" ctl "$tmp/ctl.sock" set disp height 480 > /dev/null

# 50 viewers at once: each gets the server's init with the screen's size
out=$($py - "$port" <<'PY' 2>&1
import socket, struct, sys
port = int(sys.argv[1])
socks = [socket.create_connection(('127.0.0.1', port)) for _ in range(50)]
ok = 0
for s in socks:
    s.settimeout(60)
    try:
        assert s.recv(12) == b'RFB 003.008\n'
        s.sendall(b'RFB 003.008\n')
        n = s.recv(1)[0]
        s.recv(n)
        s.sendall(b'\x01')
        assert s.recv(4) == b'\0\0\0\0'
        s.sendall(b'\x01')
        init = b''
        while len(init) < 24:
            init += s.recv(24 - len(init))
        w, h = struct.unpack('>HH', init[:4])
        ok += (w, h) == (640, 480)
    except (OSError, AssertionError, IndexError) as e:
        print('viewer failed: %r' % e)
for s in socks:
    s.close()
print('%d of 50 viewers got 640x480' % ok)
sys.exit(0 if ok == 50 else 1)
PY
)
result vnc-garbage-50-viewers $? "$out"
still_fine vnc-garbage-50-hv-fine

out=$(timeout 60 "$client" 127.0.0.1:$port size 640 480 pixel 600 400 "$(pat 600 400)" 2>&1)
result vnc-garbage-viewer-after $? "$(tr '\n' '|' <<< "$out")"
stop_vm
result vnc-garbage-quit $?
