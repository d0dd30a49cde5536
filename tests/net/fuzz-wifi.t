# hv-test: once
# hv-test: timeout=200
# libFuzzer over the Wi-Fi bridge's translation (make fuzz-wifi): frames
# both ways, time, aging and host addresses in any order, every step's
# result and the table's invariants checked (tests/net/fuzz_wifi.c).
# Seeds: scapy's vectors (tests/unit/wifi_vectors.h), each alone and all
# in the unit test's order. At most 60 s of fuzzing. Artifacts:
# build/fuzz/artifacts.
set -u
secs=${HV_FUZZ_SECS:-60}
if ! command -v clang > /dev/null; then
	echo "not ok fuzz-wifi - clang missing (scripts/deps.sh installs it)"
	exit 0
fi
if ! make -s fuzz-wifi > build/fuzz-wifi.build.log 2>&1; then
	echo "not ok fuzz-wifi - does not build: $(tail -3 build/fuzz-wifi.build.log | tr '\n' ' ')"
	exit 0
fi
corpus=build/fuzz/wifi-corpus
mkdir -p "$corpus" build/fuzz/artifacts
if ! /usr/bin/python3 - tests/unit/wifi_vectors.h "$corpus" <<'PY'; then
import re, struct, sys
text, out = open(sys.argv[1]).read(), sys.argv[2]
arrays = {m.group(1): bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", m.group(2)))
          for m in re.finditer(r"static const uint8_t (\w+)\[\d+\] = \{(.*?)\};", text, re.S)}
steps = []
for m in re.finditer(r'\{ "(\w+)", (\d), \w+, (\w+),', text):
    name, out_way, frame = m.group(1), m.group(2) == "1", arrays[m.group(3)]
    step = bytes([0 if out_way else 2]) + struct.pack("<H", len(frame)) + frame
    steps.append(step)
    open("%s/%s" % (out, name), "wb").write(b"\x4f" + step)
assert len(steps) > 40, "no vectors found"
open("%s/all-in-order" % out, "wb").write(b"\x7f" + b"".join(steps))
# ... and again after the entries aged (time passes, wb_age)
open("%s/all-then-age" % out, "wb").write(b"\x7f" + b"".join(steps) + b"\x04\x50\x00\x05\x00\x00" + b"".join(steps))
PY
	echo "not ok fuzz-wifi - cannot make seeds from tests/unit/wifi_vectors.h"
	exit 0
fi
if build/fuzz/fuzz_wifi -max_total_time="$secs" -max_len=4096 -timeout=10 \
	-artifact_prefix=build/fuzz/artifacts/ "$corpus" > build/fuzz-wifi.log 2>&1; then
	echo "ok fuzz-wifi ($(grep -o 'Done [0-9]* runs' build/fuzz-wifi.log), $(grep -o 'cov: [0-9]*' build/fuzz-wifi.log | tail -1))"
else
	echo "not ok fuzz-wifi - $(grep -m1 -E 'fuzz_wifi:|ERROR|SUMMARY|deadly' build/fuzz-wifi.log)"
fi
