# The Wi-Fi bridge's byte-exact vectors (tests/unit/wifi_vectors.h, read by
# tests/unit/test_wifi_xlate.c) are scapy's: regenerate them from
# tests/net/wifi-vectors.py and diff with the committed header, so a hand
# edit of an expected frame, or a scapy that computes a checksum another
# way, fails here. Then scapy re-parses every expected frame that passes
# (the committed header) and checks its IPv4/UDP/TCP/ICMPv6 checksums.
set -u
out=${BUILD:-build}/wifi-vectors.h
mkdir -p "$(dirname "$out")"
if ! /usr/bin/python3 tests/net/wifi-vectors.py > "$out" 2> "$out.err"; then
	echo "not ok wifi-vectors-regenerate - wifi-vectors.py failed (python3-scapy missing?): $(tail -1 "$out.err")"
	exit 0
fi
if diff -u tests/unit/wifi_vectors.h "$out" > "$out.diff"; then
	echo "ok wifi-vectors-regenerate ($(grep -c '^	{ "' "$out") vectors)"
else
	echo "not ok wifi-vectors-regenerate - tests/unit/wifi_vectors.h differs from scapy's ($out.diff)"
fi
/usr/bin/python3 - tests/unit/wifi_vectors.h <<'PY'
import re, sys
from scapy.all import ICMPv6ND_NS, IP, IPv6, TCP, UDP, Ether, raw
text = open(sys.argv[1]).read()
arrays = {m.group(1): bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", m.group(2)))
          for m in re.finditer(r"static const uint8_t (\w+)\[\d+\] = \{(.*?)\};", text, re.S)}
bad, n = [], 0
for m in re.finditer(r'\{ "(\w+)", \d, WB_PASS, \w+, sizeof\(\w+\), (\w+) \}', text):
    name, exp = m.group(1), arrays[m.group(2)]
    p = Ether(exp)
    for layer in (IP, UDP, TCP):
        if layer in p and (layer is not UDP or p[UDP].chksum):
            q = Ether(exp)
            del q[layer].chksum
            if raw(Ether(raw(q)))[:len(exp)] != exp:
                bad.append("%s %s" % (name, layer.__name__))
    if IPv6 in p and p[IPv6].nh == 58:
        q = Ether(exp)
        icmp = q[IPv6].payload
        del icmp.cksum
        if raw(q)[:len(exp)] != exp:
            bad.append(name + " ICMPv6")
    n += 1
print(("ok wifi-vectors-checksums (%d frames)" % n) if not bad else
      "not ok wifi-vectors-checksums - " + ", ".join(bad))
PY
