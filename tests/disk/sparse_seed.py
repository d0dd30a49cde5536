#!/usr/bin/env python3
"""An image's non-zero 4 KiB pages as fuzz_disk.c's input records.
Usage: sparse_seed.py IMAGE OUT [MAXPAGES]"""
import struct, sys
img, out = sys.argv[1], sys.argv[2]
maxp = int(sys.argv[3]) if len(sys.argv) > 3 else 64
recs, n = bytearray(), 0
with open(img, 'rb') as f:
    pg = 0
    while n < maxp:
        d = f.read(4096)
        if not d: break
        if any(d):
            d = d.rstrip(b'\0') or b'\0'
            recs += struct.pack('<IH', pg, len(d)) + d; n += 1
        pg += 1
    # the last page always (a VHD footer lives there)
    f.seek(0, 2); size = f.tell()
    last = (size - 1) // 4096
    if last >= pg:
        f.seek(last * 4096); d = f.read(4096)
        recs += struct.pack('<IH', last, len(d)) + d
open(out, 'wb').write(recs)
