# hv-test: once
# hv-test: timeout=400
# libFuzzer over the VNC frontend (make fuzz-vnc): its HTTP request reader,
# and libvncserver with the plugin's callbacks fed random client bytes
# through a socketpair (the input events it sends are checked by the fake
# host). Seeded with a full RFB 3.8 session, 3.3, and a WebSocket upgrade.
# Artifacts: build/fuzz/artifacts.
set -u
runs=${HV_FUZZ_RUNS:-200000}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-vnc - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-vnc > build/fuzz-vnc.build.log 2>&1; then
	echo "not ok fuzz-vnc - does not build: $(tail -3 build/fuzz-vnc.build.log | tr '\n' ' ')"
	exit 0
fi
hc=build/fuzz/vnc-http-corpus rc=build/fuzz/vnc-rfb-corpus
mkdir -p "$hc" "$rc" build/fuzz/artifacts
printf 'GET /vnc.html?autoconnect=1 HTTP/1.1\r\nHost: x\r\n\r\n' > "$hc/get"
printf 'GET /websockify HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' > "$hc/ws"
printf 'GET /../etc/passwd HTTP/1.0\n\n' > "$hc/dots"
python3 - "$rc" <<'PY'
import struct, sys
d = sys.argv[1]
hs = b'RFB 003.008\n\x01\x01'
pf = b'\0\0\0\0' + struct.pack('>BBBBHHHBBB3x', 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
enc = b'\x02\0' + struct.pack('>H', 3) + struct.pack('>iii', 0, -223, -308)
upd = b'\x03\0' + struct.pack('>HHHH', 0, 0, 50, 50)
key = b'\x04\x01\0\0' + struct.pack('>I', 0x41) + b'\x04\0\0\0' + struct.pack('>I', 0x41)
ptr = b'\x05\x01' + struct.pack('>HH', 10, 10) + b'\x05\x08' + struct.pack('>HH', 3000, 3000)
cut = b'\x06\0\0\0' + struct.pack('>I', 5) + b'hello'
seeds = [(0, hs + pf + enc + upd + key + ptr + cut), (9, hs + upd), (36, hs + enc + upd + upd),
         (45, hs + key), (18, b'RFB 003.003\n\x01' + upd)]
for i, (f, s) in enumerate(seeds):
    open('%s/seed%d' % (d, i), 'wb').write(bytes([f]) + s)
open(d + '/ws', 'wb').write(b'\0GET /websockify HTTP/1.1\r\nHost: a\r\nOrigin: b\r\n'
    b'Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
    b'Sec-WebSocket-Version: 13\r\n\r\n')
PY
for t in http rfb; do
	corpus=$hc
	[ $t = rfb ] && corpus=$rc
	if build/fuzz/fuzz_vnc_$t -runs="$runs" -max_len=4096 -timeout=10 \
		-artifact_prefix=build/fuzz/artifacts/ "$corpus" > build/fuzz-vnc-$t.log 2>&1; then
		echo "ok fuzz-vnc-$t ($(grep -o 'Done [0-9]* runs' build/fuzz-vnc-$t.log))"
	else
		echo "not ok fuzz-vnc-$t - $(grep -m1 -E 'ERROR|SUMMARY|deadly' build/fuzz-vnc-$t.log)"
	fi
done
