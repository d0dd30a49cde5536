#!/usr/bin/env python3
"""Decode an 8-bit RGB PNG with zlib and struct alone (no code of hv's)
and compare it with test_display's pattern, R = x & 0xff, G = y & 0xff,
B = (x + y) & 0xff, outside an optional square left white by `animate`.

usage: pngcheck.py FILE WIDTH HEIGHT   exit 0 when every pixel matches
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG signature')
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            raise ValueError('bad CRC in %s' % kind)
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        elif kind == b'IEND':
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype != 2 or interlace:
        raise ValueError('not 8-bit RGB non-interlaced: %r' % (hdr,))
    raw = zlib.decompress(idat)
    stride = 3 * w
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xff
            elif f == 2:
                line[i] = (line[i] + b) & 0xff
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 0xff
        rows.append(line)
        prev = line
    return w, h, rows


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, rows = decode(path)
    if (w, h) != (want_w, want_h):
        print('size %dx%d, want %dx%d' % (w, h, want_w, want_h))
        return 1
    bad = 0
    for y in range(h):
        for x in range(w):
            px = tuple(rows[y][3 * x:3 * x + 3])
            want = (x & 0xff, y & 0xff, (x + y) & 0xff)
            if px != want and not (y < 16 and px == (255, 255, 255)):
                if bad < 5:
                    print('pixel %d,%d = %r, want %r' % (x, y, px, want))
                bad += 1
    if bad:
        print('%d pixels differ' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
