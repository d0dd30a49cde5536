#!/usr/bin/env python3
"""An independent VHDX reader written from MS-VHDX v1.0, for tests: checks
the structures a conforming file must have and writes the virtual disk to a
raw file.  Usage: vhdx_spec.py IMAGE OUT.raw   (exit 1 with a reason)"""
import os, struct, sys, uuid

def crc32c(data):
    crc = 0xFFFFFFFF
    tab = crc32c.tab
    for b in data:
        crc = tab[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
crc32c.tab = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    crc32c.tab.append(c)

G = lambda s: uuid.UUID(s).bytes_le
BAT, META = G('2DC27766-F623-4200-9D64-115E9BFD4A08'), G('8B7CA206-4790-4B9A-B8FE-575F050F886E')
FP, VS, LSS = G('CAA16737-FA36-4D43-B3B6-33F0AA44E76B'), G('2FA54224-CD1B-4876-B211-5DBED83BF4B8'), G('8141BF1D-A96F-4709-BA47-F233A8FAAB5F')
PSS, PL = G('CDA348C7-445D-4471-9CC9-E9885251C556'), G('A8D35F2D-B30B-454D-ABF7-D3D84834AB0C')
MiB = 1 << 20

def fail(msg):
    print(msg); sys.exit(1)

class Vhdx:
    def __init__(self, path):
        self.path = path
        f = self.f = open(path, 'rb')
        if f.read(8) != b'vhdxfile': fail('bad file identifier')
        hdrs = []
        for off in (64 << 10, 128 << 10):
            f.seek(off); h = bytearray(f.read(4096))
            ok = h[:4] == b'head' and struct.unpack_from('<I', h, 4)[0] == crc32c(h[:4] + b'\0' * 4 + h[8:])
            if ok: hdrs.append(h)
        if not hdrs: fail('no valid header')
        h = max(hdrs, key=lambda h: struct.unpack_from('<Q', h, 8)[0])
        self.dwg = bytes(h[32:48])
        if any(h[48:64]): fail('log not empty')
        f.seek(192 << 10); r = f.read(64 << 10)
        if r[:4] != b'regi' or struct.unpack_from('<I', r, 4)[0] != crc32c(r[:4] + b'\0' * 4 + r[8:]): fail('bad region table')
        f.seek(256 << 10)
        if f.read(64 << 10) != r: fail('region tables differ')
        regs = {}
        for i in range(struct.unpack_from('<I', r, 8)[0]):
            g, off, ln, req = struct.unpack_from('<16sQII', r, 16 + 32 * i)
            if off % MiB or ln % MiB or not req & 1: fail('region %d misaligned or not required' % i)
            regs[g] = (off, ln)
        moff, mlen = regs[META]
        f.seek(moff); m = f.read(mlen)
        if m[:8] != b'metadata': fail('bad metadata signature')
        items = {}
        for i in range(struct.unpack_from('<H', m, 10)[0]):
            g, o, l, fl = struct.unpack_from('<16sIII', m, 32 + 32 * i)
            items[g] = m[o:o + l]
        self.bs, flags = struct.unpack('<II', items[FP])
        self.has_parent = bool(flags & 2)
        self.vsize = struct.unpack('<Q', items[VS])[0]
        self.lss = struct.unpack('<I', items[LSS])[0]
        if self.lss not in (512, 4096) or struct.unpack('<I', items[PSS])[0] not in (512, 4096): fail('bad sector size')
        self.cr = (1 << 23) * self.lss // self.bs
        nb = -(-self.vsize // self.bs)
        nbat = -(-nb // self.cr) * (self.cr + 1) if self.has_parent else nb + (nb - 1) // self.cr
        boff, blen = regs[BAT]
        if nbat * 8 > blen: fail('BAT region too small')
        f.seek(boff); self.bat = struct.unpack('<%dQ' % nbat, f.read(nbat * 8))
        self.parent = None
        if self.has_parent:
            loc = items[PL]
            kv = {}
            for i in range(struct.unpack_from('<H', loc, 18)[0]):
                ko, vo, kl, vl = struct.unpack_from('<IIHH', loc, 20 + 12 * i)
                kv[loc[ko:ko + kl].decode('utf-16-le')] = loc[vo:vo + vl].decode('utf-16-le')
            rel = kv['relative_path'].replace('\\', '/')
            p = os.path.join(os.path.dirname(path), rel)
            self.parent = Vhdx(p)
            if uuid.UUID(kv['parent_linkage']).bytes_le != self.parent.dwg: fail('parent linkage mismatch')

    def read(self, pos, n):
        """n bytes of the virtual disk from pos, resolving the chain"""
        out = bytearray()
        while n:
            b, inb = divmod(pos, self.bs)
            k = min(n, self.bs - inb)
            e = self.bat[b + b // self.cr]
            st, off = e & 7, e & ~(MiB - 1)
            if st == 6:
                self.f.seek(off + inb); d = self.f.read(k); out += d + b'\0' * (k - len(d))
            elif st in (0, 1) and self.parent:
                out += self.parent.read(pos, k)
            elif st != 7:
                out += b'\0' * k
            else:
                sbe = self.bat[(b // self.cr) * (self.cr + 1) + self.cr]
                if sbe & 7 != 6: fail('partially present block %d without bitmap' % b)
                self.f.seek(sbe & ~(MiB - 1)); sb = self.f.read(MiB)
                for s0 in range(0, k, self.lss):
                    i = ((b % self.cr) * self.bs + inb + s0) // self.lss
                    if (sb[i // 8] >> (i % 8)) & 1:
                        self.f.seek(off + inb + s0); out += self.f.read(self.lss)
                    else:
                        out += self.parent.read(pos + s0, self.lss)
            pos += k; n -= k
        return bytes(out)

v = Vhdx(sys.argv[1])
with open(sys.argv[2], 'wb') as o:
    for pos in range(0, v.vsize, 4 * MiB):
        o.write(v.read(pos, min(4 * MiB, v.vsize - pos)))
print('ok lss=%d bs=%d size=%d parent=%s' % (v.lss, v.bs, v.vsize, bool(v.parent)))
