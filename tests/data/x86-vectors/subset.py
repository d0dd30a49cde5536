#!/usr/bin/env python3
"""Cut the committed subset of the SingleStepTests 80286 real-mode vectors.

    python3 tests/data/x86-vectors/subset.py FULL/80286-real tests/data/x86-vectors/80286-real

Every opcode file of the full set is kept, with FIRST tests from its start
and SPREAD more at evenly spaced indices over the rest, plus the vectors
named in EXTRA (known hardware quirks, so that conformance-known.txt stays
exercised). The MOO and META test counts are rewritten to the subset's;
each TEST keeps its index in the full file. metadata.json and LICENSE are
copied unchanged. The output is byte-for-byte reproducible (gzip mtime 0).
"""
import gzip
import os
import shutil
import struct
import sys

FIRST = 8
SPREAD = 24
# opcode file -> TEST indices always kept (see ../README.md)
EXTRA = {"F6.7": [952]}


def chunks(buf, off, end):
    while off + 8 <= end:
        cid = buf[off:off + 4]
        (n,) = struct.unpack_from("<I", buf, off + 4)
        if off + 8 + n > end:
            raise ValueError("chunk past the end at %d" % off)
        yield cid, off, off + 8 + n
        off += 8 + n


def pick(total, extra):
    keep = set(range(min(FIRST, total)))
    rest = total - FIRST
    for i in range(SPREAD):
        if rest > 0:
            keep.add(FIRST + (i * rest) // SPREAD + rest // (2 * SPREAD))
    return keep | {e for e in extra if e < total}


def cut(src, dst, op):
    with gzip.open(src, "rb") as f:
        buf = f.read()
    tests = [c for c in chunks(buf, 0, len(buf)) if c[0] == b"TEST"]
    keep = pick(len(tests), EXTRA.get(op, []))
    out = bytearray()
    kept = 0
    for cid, start, end in chunks(buf, 0, len(buf)):
        if cid == b"TEST":
            (idx,) = struct.unpack_from("<I", buf, start + 8)
            if idx not in keep:
                continue
            kept += 1
        out += buf[start:end]
    # patch the counts: MOO payload +4, META payload +7
    for cid, start, end in chunks(out, 0, len(out)):
        if cid == b"MOO ":
            struct.pack_into("<I", out, start + 8 + 4, kept)
        elif cid == b"META":
            struct.pack_into("<I", out, start + 8 + 7 + 8, kept)
    with open(dst, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0,
                           filename="") as g:
            g.write(bytes(out))
    return kept


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1:]
    os.makedirs(dst, exist_ok=True)
    total = 0
    files = sorted(n for n in os.listdir(src) if n.endswith(".MOO.gz"))
    for name in files:
        total += cut(os.path.join(src, name), os.path.join(dst, name),
                     name[:-len(".MOO.gz")])
    for name in ("metadata.json", "LICENSE"):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    print("%d opcode files, %d tests" % (len(files), total))


if __name__ == "__main__":
    main()
