#!/usr/bin/env python3
"""Seed inputs for fuzz-scsi (tests/scsi/fuzz_scsi.c's format): one file
per command family, valid CDBs and parameter lists, so the fuzzer starts
inside every handler rather than at INVALID COMMAND OPERATION CODE."""
import struct
import sys

NONE, IN, OUT = 0, 1, 2


def rec(flags, cdb, ln=0, data=b''):
    cdb = bytes(cdb) + bytes(16 - len(cdb))
    return bytes([flags]) + cdb + struct.pack('<H', ln) + data


def unmap_list(*ranges):
    d = b''.join(struct.pack('>QII', lba, n, 0) for lba, n in ranges)
    return struct.pack('>HH4x', 6 + len(d), len(d)) + d


TUR = rec(NONE, [0x00], 0)
disk = {
    'inquiry': [rec(IN, [0x12, 0, 0, 0, 96], 96)] +
               [rec(IN, [0x12, 1, p, 0, 64], 64) for p in (0, 0x80, 0x83, 0xb0, 0xb1, 0xb2)],
    'rw': [TUR, TUR, rec(OUT | 0x30, [0x2a, 8, 0, 0, 0, 16, 0, 0, 8], 4096, bytes(range(256)) * 16),
           rec(IN | 0x20, [0x28, 0, 0, 0, 0, 16, 0, 0, 8], 4096),
           rec(IN, [0x08, 0, 0, 16, 1], 512), rec(OUT, [0x0a, 0, 0, 2, 1], 512, b'\x11' * 512),
           rec(IN, [0x88, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1], 512),
           rec(OUT, [0x8e, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1], 512, b'\x22' * 512),
           rec(IN, [0xa8, 0, 0, 0, 0, 1, 0, 0, 0, 1], 512),
           rec(NONE, [0x2f, 0, 0, 0, 0, 0, 0, 0, 8]), rec(NONE, [0x35]), rec(NONE, [0x91])],
    'cap': [TUR, rec(IN, [0x25], 8), rec(IN, [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32], 32),
            rec(IN, [0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 256)],
    'unmap': [TUR, rec(OUT, [0x42, 0, 0, 0, 0, 0, 0, 0, 40], 40, unmap_list((8, 2), (64, 8))),
              rec(OUT, [0x41, 0, 0, 0, 0, 4, 0, 0, 4], 512, b'\x5a' * 512),
              rec(OUT, [0x93, 8, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4], 512, bytes(512)),
              rec(NONE, [0x93, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 64], 0)],
    'mode': [TUR, rec(IN, [0x1a, 0, 0x3f, 0, 255], 255), rec(IN, [0x5a, 0x18, 0x08, 0, 0, 0, 0, 0, 64], 64),
             rec(OUT, [0x55, 0x10, 0, 0, 0, 0, 0, 0, 28], 28, bytes(8) + b'\x08\x12' + bytes(18)),
             rec(OUT, [0x15, 0x10, 0, 0, 32], 32, b'\0\0\0\x08' + bytes(5) + b'\x02\0\0' + b'\x08\x12\x04' + bytes(17))],
    'sense': [rec(IN, [0x03, 0, 0, 0, 18], 18), rec(NONE, [0xff]), rec(IN, [0x03, 0, 0, 0, 18], 18),
              rec(NONE, [0x1b, 0, 0, 0, 1]), rec(NONE, [0x1e, 0, 0, 0, 1])],
}
cd = {
    'cd-toc': [TUR, rec(IN, [0x43, 0, 0, 0, 0, 0, 0, 0, 100], 100), rec(IN, [0x43, 2, 1, 0, 0, 0, 0, 0, 100], 100),
               rec(IN, [0x43, 2, 2, 0, 0, 0, 0, 0, 100], 100), rec(IN, [0x51, 0, 0, 0, 0, 0, 0, 0, 34], 34),
               rec(IN, [0x52, 1, 0, 0, 0, 1, 0, 0, 36], 36)],
    'cd-config': [rec(IN, [0x46, 0, 0, 0, 0, 0, 0, 0, 128], 128), rec(IN, [0x46, 2, 0, 0x10, 0, 0, 0, 0, 32], 32),
                  rec(IN, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 8), rec(IN, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64], 64),
                  rec(IN, [0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8], 8)],
    'cd-tray': [TUR, rec(NONE, [0x1e, 0, 0, 0, 1]), rec(NONE, [0x1b, 0, 0, 0, 2]), rec(NONE, [0x1e]),
                rec(NONE, [0x1b, 0, 0, 0, 2]), rec(NONE, [0x00]), rec(NONE, [0x1b, 0, 0, 0, 3]),
                rec(IN, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 8), rec(NONE | 8, [0x00]),
                rec(IN, [0x28, 0, 0, 0, 0, 0, 0, 0, 1], 2048), rec(NONE | 8, [0x00]),
                rec(IN | 4, [0x28, 0, 0, 0, 0, 0, 0, 0, 1], 2048)],
}
out = sys.argv[1]
for name, recs in disk.items():
    open(f'{out}/{name}.seed', 'wb').write(b'\x00' + b''.join(recs))
for name, recs in cd.items():
    open(f'{out}/{name}.seed', 'wb').write(b'\x01' + b''.join(recs))
