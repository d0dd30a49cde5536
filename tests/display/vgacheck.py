#!/usr/bin/env python3
"""vgacheck.py PNG PATTERN W H: decode a screenshot with zlib and struct
alone (PNG spec: chunks, IHDR, IDAT, the five filters; 8-bit RGB or RGBA)
and compare every pixel with a pattern the guest drew:
  sum: R = x & 255, G = y & 255, B = (x + y) & 255   (tests/guests/vga-dispi.asm)
  xor: R = x & 255, G = y & 255, B = (x ^ y) & 255   (tests/display/linux-drm.t)
Exit 0 when the size and all pixels match; else one line saying where not."""
import struct
import sys
import zlib


def decode(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(kind + body) & 0xffffffff != crc:
            raise ValueError('bad CRC in %s' % kind)
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('unsupported PNG: depth %d colour type %d' % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = w * bpp
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        elif f != 0:
            raise ValueError('filter %d' % f)
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return w, h, bpp, out


def main():
    path, pattern, W, H = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    w, h, bpp, px = decode(path)
    if (w, h) != (W, H):
        print('size %dx%d, expected %dx%d' % (w, h, W, H))
        return 1
    blue = (lambda x, y: (x + y) & 255) if pattern == 'sum' else (lambda x, y: (x ^ y) & 255)
    bad = 0
    first = None
    for y in range(h):
        row = px[y * w * bpp:(y + 1) * w * bpp]
        want = bytearray()
        for x in range(w):
            want += bytes((x & 255, y & 255, blue(x, y))) + (b'\xff' if bpp == 4 else b'')
        if bpp == 4:  # alpha is not the guest's to choose
            row = bytearray(row)
            row[3::4] = b'\xff' * w
        if row != want:
            for x in range(w):
                if row[x * bpp:x * bpp + 3] != want[x * bpp:x * bpp + 3]:
                    bad += 1
                    first = first or (x, y, tuple(row[x * bpp:x * bpp + 3]),
                                      tuple(want[x * bpp:x * bpp + 3]))
    if bad:
        print('%d pixels differ; first at %d,%d: %s, expected %s' % ((bad,) + first))
        return 1
    print('%dx%d: every pixel matches' % (w, h))
    return 0


if __name__ == '__main__':
    sys.exit(main())
