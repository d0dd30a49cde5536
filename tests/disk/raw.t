#!/bin/bash
# raw: create, convert, read-only, discard punches holes.
. "$(dirname "$0")/lib.sh"

check raw-create bash -c "'${IMG[0]}' img create -f raw '$DISK/r.raw' 64M && [ \$(stat -c %s '$DISK/r.raw') = 67108864 ]"
head -c $((8 << 20)) /dev/urandom > "$DISK/d.raw"
check raw-write "$TOOL" write "$DISK/d.raw" 0 4096 0x11
[ "$(head -c 4096 "$DISK/d.raw" | tr -d '\021' | wc -c)" = 0 ] && ok raw-write-landed || notok raw-write-landed "bytes differ"
before=$(stat -c %b "$DISK/d.raw")
check raw-discard "$TOOL" discard "$DISK/d.raw" $((2 << 20)) $((4 << 20))
after=$(stat -c %b "$DISK/d.raw")
[ $((before - after)) -ge 8000 ] && ok raw-discard-punched || notok raw-discard-punched "blocks $before -> $after"
[ "$(dd if="$DISK/d.raw" bs=1M skip=2 count=4 2>/dev/null | tr -d '\0' | wc -c)" = 0 ] && ok raw-discard-zero || notok raw-discard-zero "not zero"
# the holes are the map: hv img map agrees with qemu-img map, range by range
if have_qemu; then
	maps=$(python3 - "$(img map --output=json "$DISK/d.raw")" "$(qemu-img map --output=json -f raw "$DISK/d.raw")" <<'PY'
import json, sys
hv, qm = (json.loads(a) for a in sys.argv[1:3])
def runs(m):
    out = []
    for e in m:
        k = (e["data"], e["zero"])
        if out and out[-1][2] == k and out[-1][0] + out[-1][1] == e["start"]:
            out[-1][1] += e["length"]
        else:
            out.append([e["start"], e["length"], k])
    return out
print("same" if runs(hv) == runs(qm) and len(runs(hv)) >= 3 else "hv %s qemu %s" % (runs(hv), runs(qm)))
PY
)
	[ "$maps" = same ] && ok raw-map-holes-like-qemu || notok raw-map-holes-like-qemu "$maps"
fi
expect_err raw-readonly-refuses "Read-only file system" env HV_DISK_RO=1 "$TOOL" write "$DISK/d.raw" 0 512 1
expect_err raw-create-exists "File exists" img create -f raw "$DISK/r.raw" 1M
expect_err raw-bad-format "no disk format plugin named 'nope'" img info -f nope "$DISK/r.raw"
expect_err raw-missing-file "No such file" img info "$DISK/none.raw"
# the progress bar appears on a terminal only
head -c $((8 << 20)) /dev/urandom > "$DISK/p.raw"
out=$(img convert -O raw "$DISK/p.raw" "$DISK/p1.raw")
[ -z "$out" ] && ok raw-no-progress-when-piped || notok raw-no-progress-when-piped "$out"
if command -v script >/dev/null; then
	out=$(script -qc "'${IMG[0]}' ${IMG[1]} convert -O raw '$DISK/p.raw' '$DISK/p2.raw'" /dev/null | tr '\r' '\n')
	echo "$out" | grep -q '(100%) \[#*\]' && ok raw-progress-on-tty || notok raw-progress-on-tty "$out"
fi
exit 0
