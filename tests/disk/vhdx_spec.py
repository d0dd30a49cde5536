#!/usr/bin/env python3
"""An independent VHDX reader and differencing-image writer written from
MS-VHDX v1.0, for tests. Every GUID below is copied from the text of the
specification (2.2.3.2 Known Regions, 2.6.2 Known Metadata Items,
2.6.2.6.1 VHDX Parent Locator), never from hv's code.
  vhdx_spec.py IMAGE OUT.raw      check the structures a conforming file
                                  must have, write the virtual disk to OUT
  vhdx_spec.py mkdiff CHILD PARENT LSS BLOCK OFF:LEN:BYTE...
                                  create a differencing CHILD of PARENT
                                  (in CHILD's directory) holding the writes
  vhdx_spec.py mklog IMAGE VOFF:LEN:BYTE...
                                  leave one unapplied log entry (MS-VHDX
                                  2.3.1) rewriting those bytes of a
                                  fixed/dynamic IMAGE's allocated blocks:
                                  BYTE 0 as a zero descriptor, others as
                                  data sectors; the headers get its LogGuid
Exit 1 with a reason on failure."""
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
PG83, LOCTYPE = G('BECA12AB-B2E6-4523-93EF-C309E000C746'), G('B04AEFB7-D19E-4A81-B789-25B8E9445913')
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

def sealed(buf):
    """buf with its CRC-32C (bytes 4..7, computed as zero) filled in"""
    buf = bytearray(buf); buf[4:8] = b'\0' * 4
    struct.pack_into('<I', buf, 4, crc32c(bytes(buf)))
    return bytes(buf)

def mkdiff(child, parent_name, lss, bs, writes):
    """A differencing VHDX laid out unlike hv's own: metadata before the
    BAT in the region table, locator keys in another order, a 2 MiB log."""
    par = Vhdx(os.path.join(os.path.dirname(child) or '.', parent_name))
    if par.lss != lss: fail('parent has %d-byte sectors' % par.lss)
    vsize = par.vsize
    cr = (1 << 23) * lss // bs
    nb = -(-vsize // bs)
    nbat = -(-nb // cr) * (cr + 1)
    LOG_OFF, META_OFF, BAT_OFF = 1 * MiB, 3 * MiB, 4 * MiB
    batlen = -(-nbat * 8 // MiB) * MiB
    alloc = [BAT_OFF + batlen]
    bat = [0] * nbat
    data = {}                                # file offset -> bytes
    bitmaps = {}                             # chunk -> bytearray(1 MiB)
    def take(n):
        off = alloc[0]; alloc[0] += n; return off
    for w in writes:
        off, ln, byte = (int(x, 0) for x in w.split(':'))
        if off % lss or ln % lss: fail('write %s is not sector-aligned' % w)
        while ln:
            b, inb = divmod(off, bs); k = min(ln, bs - inb)
            i = b + b // cr
            if bat[i] & 7 == 0:
                whole = inb == 0 and k == bs
                bat[i] = (6 if whole else 7) | take(bs)
            boff = bat[i] & ~(MiB - 1)
            blk = data.setdefault(boff, bytearray(bs))
            blk[inb:inb + k] = bytes([byte]) * k
            if bat[i] & 7 == 7:
                c = b // cr; si = c * (cr + 1) + cr
                if not bat[si] & 7: bat[si] = 6 | take(MiB)
                sb = bitmaps.setdefault(c, bytearray(MiB))
                for s0 in range(inb // lss, (inb + k) // lss):
                    j = (b % cr) * (bs // lss) + s0
                    sb[j // 8] |= 1 << (j % 8)
            off += k; ln -= k
    with open(child, 'xb') as f:
        f.truncate(alloc[0])
        f.write(b'vhdxfile' + 'vhdx_spec.py'.encode('utf-16-le'))
        for seq, off in ((1, 64 << 10), (2, 128 << 10)):
            h = struct.pack('<4sIQ16s16s16sHHIQ', b'head', 0, seq, uuid.uuid4().bytes_le,
                            uuid.uuid4().bytes_le, b'\0' * 16, 0, 1, 2 * MiB, LOG_OFF)
            f.seek(off); f.write(sealed(h + b'\0' * (4096 - len(h))))
        r = struct.pack('<4sIII', b'regi', 0, 2, 0)
        r += struct.pack('<16sQII', META, META_OFF, MiB, 1) + struct.pack('<16sQII', BAT, BAT_OFF, batlen, 1)
        r = sealed(r + b'\0' * ((64 << 10) - len(r)))
        for off in (192 << 10, 256 << 10):
            f.seek(off); f.write(r)
        kv = [('relative_path', parent_name.replace('/', '\\')),
              ('parent_linkage', '{%s}' % uuid.UUID(bytes_le=par.dwg)),
              ('absolute_win32_path', '\\' + os.path.abspath(os.path.join(os.path.dirname(child), parent_name)).lstrip('/').replace('/', '\\'))]
        loc, tail = struct.pack('<16sHH', LOCTYPE, 0, len(kv)), b''
        base = 20 + 12 * len(kv)
        for k, v in kv:
            kb, vb = k.encode('utf-16-le'), v.encode('utf-16-le')
            loc += struct.pack('<IIHH', base + len(tail), base + len(tail) + len(kb), len(kb), len(vb))
            tail += kb + vb
        items = [(FP, struct.pack('<II', bs, 2), 4), (VS, struct.pack('<Q', vsize), 6),
                 (PG83, uuid.uuid4().bytes_le, 6), (LSS, struct.pack('<I', lss), 6),
                 (PSS, struct.pack('<I', 4096), 6), (PL, loc + tail, 4)]
        m, body, o = struct.pack('<8sHH20s', b'metadata', 0, len(items), b''), b'', 64 << 10
        for g, v, fl in items:
            m += struct.pack('<16sIIII', g, o + len(body), len(v), fl, 0)
            body += v
        f.seek(META_OFF); f.write(m); f.seek(META_OFF + (64 << 10)); f.write(body)
        f.seek(BAT_OFF); f.write(struct.pack('<%dQ' % nbat, *bat))
        for off, blk in data.items():
            f.seek(off); f.write(blk)
        for c, sb in bitmaps.items():
            f.seek(bat[c * (cr + 1) + cr] & ~(MiB - 1)); f.write(sb)
    print('ok wrote %s: %d blocks, %d bitmaps' % (child, len(data), len(bitmaps)))

def mklog(path, writes):
    v = Vhdx(path)
    if v.has_parent: fail('mklog: not for differencing images')
    size = os.path.getsize(path)
    lg, seq = uuid.uuid4().bytes_le, 5
    descs, sectors = [], []
    for w in writes:
        voff, ln, byte = (int(x, 0) for x in w.split(':'))
        if voff % 4096 or ln % 4096: fail('mklog: %s is not 4 KiB-aligned' % w)
        b, inb = divmod(voff, v.bs)
        if inb + ln > v.bs: fail('mklog: %s crosses a block' % w)
        e = v.bat[b + b // v.cr]
        if e & 7 != 6: fail('mklog: block %d is not allocated' % b)
        foff = (e & ~(MiB - 1)) + inb
        if byte == 0:
            descs.append(struct.pack('<4sIQQQ', b'zero', 0, ln, foff, seq))
            continue
        for o in range(0, ln, 4096):
            page = bytes([byte]) * 4096
            descs.append(struct.pack('<4sIQQQ', b'desc', struct.unpack('<I', page[4092:])[0],
                                     struct.unpack('<Q', page[:8])[0], foff + o, seq))
            sectors.append(struct.pack('<4sI', b'data', seq >> 32) + page[8:4092] + struct.pack('<I', seq & 0xFFFFFFFF))
    hsec = -(-(64 + 32 * len(descs)) // 4096)
    length = (hsec + len(sectors)) * 4096
    hdr = struct.pack('<4sIIIQII16sQQ', b'loge', 0, length, 0, seq, len(descs), 0, lg, size, size)
    entry = hdr + b''.join(descs)
    entry += b'\0' * (hsec * 4096 - len(entry)) + b''.join(sectors)
    entry = sealed(entry)
    with open(path, 'r+b') as f:
        best = None
        for off in (64 << 10, 128 << 10):
            f.seek(off); h = bytearray(f.read(4096))
            h[48:64] = lg; f.seek(off); f.write(sealed(h))
            log_len, log_off = struct.unpack_from('<IQ', h, 68)
        if length > log_len: fail('mklog: entry larger than the log')
        f.seek(log_off); f.write(entry)
    print('ok log entry: %d descriptors, %d data sectors' % (len(descs), len(sectors)))

if sys.argv[1] == 'mklog':
    mklog(sys.argv[2], sys.argv[3:])
    sys.exit(0)
if sys.argv[1] == 'mkdiff':
    mkdiff(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5], 0), sys.argv[6:])
    sys.exit(0)
v = Vhdx(sys.argv[1])
with open(sys.argv[2], 'wb') as o:
    for pos in range(0, v.vsize, 4 * MiB):
        o.write(v.read(pos, min(4 * MiB, v.vsize - pos)))
print('ok lss=%d bs=%d size=%d parent=%s' % (v.lss, v.bs, v.vsize, bool(v.parent)))
