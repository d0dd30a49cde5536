#!/bin/bash
# Corrupt images are refused at open with one line naming the file and the
# problem; what open tolerates, check reports and (-r) repairs.
. "$(dirname "$0")/lib.sh"
D=$DISK
head -c $((6 << 20)) /dev/urandom > "$D/src.raw"
img convert -O vhdx --block-size 1M "$D/src.raw" "$D/good.vhdx"
py() { python3 - "$@"; }
# patch FILE OFFSET HEX...: overwrite bytes
patch() { py "$@" <<'PY'
import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2], 0)); f.write(bytes.fromhex(sys.argv[3])); f.close()
PY
}
le64() { py "$1" <<'PY'
import sys, struct; print(struct.pack('<Q', int(sys.argv[1], 0)).hex())
PY
}
fresh() { cp "$D/good.vhdx" "$D/$1.vhdx"; echo "$D/$1.vhdx"; }
# the CRC-32C of a header or region table, recomputed after a patch
reseal() { py "$@" <<'PY'
import sys, struct
def crc32c(d):
    c = 0xFFFFFFFF
    for b in d:
        c ^= b
        for _ in range(8): c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF
f = open(sys.argv[1], 'r+b'); off = int(sys.argv[2], 0); n = int(sys.argv[3], 0)
f.seek(off); d = bytearray(f.read(n)); d[4:8] = b'\0' * 4
d[4:8] = struct.pack('<I', crc32c(bytes(d))); f.seek(off); f.write(d)
PY
}

f=$(fresh trunc); truncate -s 100K "$f"
expect_err bad-vhdx-truncated "trunc.vhdx: truncated" img info "$f"
f=$(fresh trunc2); truncate -s $((3 << 20)) "$f"
expect_err bad-vhdx-truncated-regions "trunc2.vhdx: BAT region .* outside the file" img info "$f"
f=$(fresh sig); patch "$f" 0 00
expect_err bad-vhdx-signature "sig.vhdx: not a VHDX file" img info -f vhdx "$f"
f=$(fresh hdrs); patch "$f" 0x10100 ff; patch "$f" 0x20100 ff
expect_err bad-vhdx-header-crc "hdrs.vhdx: no valid header" img info "$f"
f=$(fresh regi); patch "$f" 0x30020 ff; patch "$f" 0x40020 ff
expect_err bad-vhdx-region-crc "regi.vhdx: no valid region table" img info "$f"
f=$(fresh batout); patch "$f" $((3 << 20)) "$(le64 $(( (1 << 40) | 6 )))"
expect_err bad-vhdx-bat-outside "batout.vhdx: BAT entry 0 points outside the file" img info "$f"
f=$(fresh batmeta); patch "$f" $((3 << 20)) "$(le64 $(( (2 << 20) | 6 )))"
expect_err bad-vhdx-bat-into-metadata "batmeta.vhdx: BAT entry 0 points into the metadata region" img info "$f"
f=$(fresh batlog); patch "$f" $(( (3 << 20) + 8 )) "$(le64 $(( (1 << 20) | 6 )))"
expect_err bad-vhdx-bat-into-log "batlog.vhdx: BAT entry 1 points into the log region" img info "$f"
f=$(fresh batdup); e0=$(od -An -tx1 -j $((3 << 20)) -N8 "$f" | tr -d ' \n'); patch "$f" $(( (3 << 20) + 8 )) "$e0"
expect_err bad-vhdx-bat-overlap "batdup.vhdx: BAT entries 0 and 1 overlap" img info "$f"
f=$(fresh batstate); patch "$f" $((3 << 20)) 05
expect_err bad-vhdx-bat-state "batstate.vhdx: BAT entry 0: bad block state 5" img info "$f"
# both region tables say the BAT lives where the metadata is
f=$(fresh regover)
for t in 0x30000 0x40000; do patch "$f" $((t + 16 + 16)) "$(le64 $((2 << 20)))"; reseal "$f" $t 65536; done
expect_err bad-vhdx-regions-overlap "regover.vhdx: BAT and metadata regions overlap" img info "$f"
# block size 3 MiB in the file parameters item (first item, at metadata+64K)
f=$(fresh bsz); patch "$f" $(( (2 << 20) + 65536 )) 00003000
expect_err bad-vhdx-block-size "bsz.vhdx: block size 3145728 is not a power of two" img info "$f"

# one bad header copy: open uses the other; check reports, -r repairs
f=$(fresh onehdr); patch "$f" 0x10100 ff
check bad-vhdx-one-header-opens img info "$f"
out=$(img check --output=json "$f"); echo "$out" | grep -q '"check-errors": 1' && ok bad-vhdx-one-header-reported || notok bad-vhdx-one-header-reported "$out"
img check -r "$f" >/dev/null
out=$(img check --output=json "$f"); echo "$out" | grep -q '"check-errors": 0' && ok bad-vhdx-one-header-repaired || notok bad-vhdx-one-header-repaired "$out"
# region table 2 differs: reported and repaired
f=$(fresh onereg); patch "$f" 0x40020 ff
out=$(img check -r --output=json "$f"); echo "$out" | grep -q '"corruptions-fixed": 1' && ok bad-vhdx-region-copy-repaired || notok bad-vhdx-region-copy-repaired "$out"
cmp -s <(dd if="$f" bs=64K skip=3 count=1 2>/dev/null) <(dd if="$f" bs=64K skip=4 count=1 2>/dev/null) && ok bad-vhdx-region-copy-equal || notok bad-vhdx-region-copy-equal differs

# parent chains: missing, modified, other size, loops
mkdir -p "$D/ch"; cd "$D/ch"
cp "$D/good.vhdx" p1.vhdx
img create -b p1.vhdx c1.vhdx >/dev/null
img create -b c1.vhdx c2.vhdx >/dev/null
check bad-chain-good img info c2.vhdx
mv p1.vhdx gone.vhdx
expect_err bad-chain-missing-parent "c1.vhdx: parent not found" img info c1.vhdx
mv gone.vhdx p1.vhdx
cp p1.vhdx p1.bak; cp c1.vhdx c1.bak
# the parent's virtual size item (second item) grown by 1 MiB, linkage intact
patch p1.vhdx $(( (2 << 20) + 65536 + 8 )) "$(le64 $((7 << 20)))"
expect_err bad-chain-size-differs "c1.vhdx: parent .*p1.vhdx has a different virtual size" img info c1.vhdx
cp p1.bak p1.vhdx
"$TOOL" write p1.vhdx 0 512 1
expect_err bad-chain-parent-modified "c1.vhdx: parent .*p1.vhdx was modified" img info c1.vhdx
cp p1.bak p1.vhdx
# c1's locator renamed to itself, then to its own child: loops
sedu() { py "$@" <<'PY'
import sys
f = open(sys.argv[1], 'r+b'); d = f.read()
a, b = (s.encode('utf-16-le') for s in sys.argv[2:4]); f.seek(0); f.write(d.replace(a, b)); f.close()
PY
}
sedu c1.vhdx p1.vhdx c1.vhdx
expect_err bad-chain-self-loop "c1.vhdx: parent chain loops back to .*c1.vhdx" img info c1.vhdx
cp c1.bak c1.vhdx; sedu c1.vhdx p1.vhdx c2.vhdx
expect_err bad-chain-loop "parent chain loops back to .*c2.vhdx" img info c2.vhdx
# a parent (or an image) that is a FIFO, or a directory, is refused at once
# instead of blocking in open(2) for a writer that never comes; timeout:
# a regression fails rather than hangs
cp c1.bak c1.vhdx; sedu c1.vhdx p1.vhdx f1.vhdx; mkfifo f1.vhdx
to() { timeout 20 "${IMG[@]}" "$@"; }
for c in info check; do
	expect_err bad-chain-parent-fifo-$c "f1.vhdx: not a regular file or block device" to $c c1.vhdx
done
rm -f out.raw
expect_err bad-chain-parent-fifo-convert "f1.vhdx: not a regular file or block device" to convert -O raw c1.vhdx out.raw
expect_err bad-image-fifo "f1.vhdx: not a regular file or block device" to info f1.vhdx
for f in vhdx vhd raw; do
	expect_err bad-image-fifo-$f "f1.vhdx: not a regular file or block device" to info -f $f f1.vhdx
done
expect_err bad-image-directory "ch: not a regular file or block device" to info -f vhdx "$D/ch"
rm -f f1.vhdx
cd "$ROOT"

# VHD
img convert -O vhd "$D/src.raw" "$D/good.vhd"
vfresh() { cp "$D/good.vhd" "$D/$1.vhd"; echo "$D/$1.vhd"; }
sz=$(stat -c %s "$D/good.vhd")
f=$(vfresh sum); patch "$f" $((sz - 512 + 40)) ff
expect_err bad-vhd-footer-checksum "sum.vhd: footer checksum mismatch" img info -f vhd "$f"
f=$(vfresh notvhd); patch "$f" $((sz - 512)) 00; patch "$f" 0 00
expect_err bad-vhd-signature "notvhd.vhd: not a VHD file" img info -f vhd "$f"
f=$(vfresh trunc); truncate -s $((sz - 4096)) "$f"
expect_err bad-vhd-truncated "trunc.vhd: truncated" img info "$f"
f=$(vfresh dyn); patch "$f" 512 00
expect_err bad-vhd-dynamic-header "dyn.vhd: bad dynamic header signature" img info "$f"
f=$(vfresh bat); patch "$f" 1536 7fffffff
expect_err bad-vhd-bat-outside "bat.vhd: BAT entry 0 points outside the file" img info "$f"
f=$(vfresh batdyn); patch "$f" 1536 00000001
expect_err bad-vhd-bat-into-header "batdyn.vhd: BAT entry 0 points into the (footer copy|dynamic header)" img info "$f"
exit 0
