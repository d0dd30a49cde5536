# hv-test: timeout=300
# The browser view: noVNC (Debian's /usr/share/novnc) served by the vnc
# plugin on the VNC port itself, its WebSocket answered by libvncserver on
# that same port. Headless Chromium opens /vnc.html?autoconnect=1 and its
# screenshot (PNG) must hold test_display's 640x480 pattern, found
# wherever noVNC placed the canvas (noVNC asks for Tight with JPEG, so
# within a tolerance, as vncsnapshot's capture). Plain HTTP: the files with the
# types module scripts need, / redirecting to the autoconnecting page,
# no way out of the web root, a 404 for a missing file.
set -u
. tests/console/vnclib.sh
py=/usr/bin/python3

write_ini "listen = 127.0.0.1:0"
if ! start_vm; then
	echo "not ok vnc-web-start - $(tr '\n' '|' < "$tmp/hv.log")"
	exit 0
fi
url=http://127.0.0.1:$port
code() { curl -s -o /dev/null --path-as-is -w '%{http_code} %{content_type}' "$@"; }
result vnc-web-page "$([ "$(code "$url/vnc.html")" = '200 text/html; charset=utf-8' ]; echo $?)" "$(code "$url/vnc.html")"
result vnc-web-module-type "$([ "$(code "$url/core/rfb.js")" = '200 text/javascript' ]; echo $?)" "$(code "$url/core/rfb.js")"
cmp -s <(curl -s "$url/app/ui.js") /usr/share/novnc/app/ui.js
result vnc-web-file-bytes $?
loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$url/")
result vnc-web-root-redirect "$([[ $loc = */vnc.html?autoconnect=1* ]]; echo $?)" "$loc"
result vnc-web-no-dotdot "$([ "$(code "$url/../../etc/passwd")" = '400 text/plain' ]; echo $?)" "$(code "$url/../../etc/passwd")"
result vnc-web-404 "$([ "$(code "$url/nothing.html")" = '404 text/plain' ]; echo $?)" "$(code "$url/nothing.html")"

# a browser whose request arrives in pieces, slower than a VNC viewer's
# silence is judged: still a page
out=$($py - "$port" <<'PY' 2>&1
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'GET /vnc_lite.html HTTP/1.1\r\n')
time.sleep(0.6)
s.sendall(b'Host: x\r\n\r\n')
s.settimeout(10)
data = b''
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
head, _, body = data.partition(b'\r\n\r\n')
assert head.startswith(b'HTTP/1.1 200'), head[:40]
assert body == open('/usr/share/novnc/vnc_lite.html', 'rb').read(), 'body differs'
print('200, %d bytes' % len(body))
PY
)
result vnc-web-slow-request $? "$out"

shot=$tmp/shot.png
ok=1
for attempt in 1 2 3; do
	rm -f "$shot"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/chrome" --window-size=900,700 \
		--virtual-time-budget=$((6000 * attempt)) --screenshot="$shot" \
		"$url/vnc.html?autoconnect=1" > "$tmp/chrome.log" 2>&1
	out=$($py - "$shot" <<'PY' 2>&1
import sys
from collections import Counter
from PIL import Image
im = Image.open(sys.argv[1]).convert('RGB')
w, h = im.size
px = im.load()
# a pixel of the pattern says where the canvas starts, modulo 256
votes = Counter()
for y in range(0, h, 7):
    for x in range(0, w, 7):
        r, g, b = px[x, y]
        if b == (r + g) & 255 and (r, g) != (0, 0):
            votes[((x - r) & 255, (y - g) & 255)] += 1
assert votes, 'no pixel of the pattern in the %dx%d screenshot' % (w, h)
(mx, my), _ = votes.most_common(1)[0]
cands = [(x0, y0) for x0 in range(mx - 256 * 4, w, 256) for y0 in range(my - 256 * 4, h, 256)
         if 0 <= x0 and 0 <= y0 and x0 + 640 <= w and y0 + 480 <= h]
def smooth(v):
    return 8 <= v & 255 <= 247
best = None
for x0, y0 in cands:
    worst, far, n = 0, 0, 0
    for y in range(2, 478, 3):
        for x in range(2, 638, 3):
            want = (x & 255, y & 255, (x + y) & 255)
            if not (smooth(x) and smooth(y) and smooth(x + y)):
                continue  # JPEG smears the pattern's wrap edges
            d = max(abs(a - b) for a, b in zip(px[x0 + x, y0 + y], want))
            worst, far, n = max(worst, d), far + (d > 6), n + 1
    if best is None or far < best[1]:
        best = (worst, far, n, x0, y0)
assert best is not None, 'no room for 640x480 in %dx%d' % (w, h)
worst, far, n, x0, y0 = best
# JPEG's 16x16 chroma blocks ring near the diagonal edges: a few points
assert far * 50 <= n, \
    'at %d,%d: worst difference %d, %d of %d points off by more than 6' % (x0, y0, worst, far, n)
print('640x480 pattern at %d,%d in the %dx%d page (%d of %d points off by more than 6)' % (x0, y0, w, h, far, n))
PY
	)
	ok=$?
	[ $ok = 0 ] && break
done
result vnc-web-chromium-novnc $ok "$out"
alive
result vnc-web-hv-alive $?
stop_vm

write_ini "listen = 127.0.0.1:0
web = off"
start_vm
url=http://127.0.0.1:$port
result vnc-web-off "$([ "$(code "$url/vnc.html")" != '200 text/html; charset=utf-8' ] && \
	timeout 60 "$client" 127.0.0.1:$port size 640 480 > /dev/null; echo $?)"
stop_vm
