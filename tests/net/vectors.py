#!/usr/bin/python3
"""Offload test vectors from scapy, an implementation not written here.

    vectors.py            print the vectors (read by tests/unit/test_netoff.c)
    vectors.py --verify F re-parse hv's output frames in F with scapy and
                          check every IP/TCP/UDP checksum; ok/not ok lines

Vector lines:
    case NAME                 a frame hv must complete or segment
    in HEX                    the 12-byte struct hv_net_hdr (virtio_net_hdr_v1,
                              little-endian) and the frame
    out HEX                   each frame hv must produce, in order: built by
                              scapy (its own lengths, ids and checksums)
    end
    bad NAME HEX              header + frame hv must refuse
Output lines (--verify): frame NAME HEX.
"""
import struct
import sys

from scapy.all import (IP, TCP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, fragment,
                       raw)

NEEDS_CSUM, DATA_VALID = 1, 2
GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_UDP_L4, GSO_ECN = 1, 3, 4, 5, 0x80
MAC = dict(src="52:54:00:12:34:56", dst="52:54:00:ab:cd:ef")
V4 = dict(src="10.200.0.1", dst="10.200.0.2")
V6 = dict(src="fd00:200::1", dst="fd00:200::2")


def hdr(flags=0, gso=0, hdr_len=0, gso_size=0, start=0, off=0):
    return struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, start, off, 0)


def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def sum16(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def l2(vlan):
    e = Ether(**MAC)
    return e / Dot1Q(vlan=vlan) if vlan else e


def offsets(p):
    """(L4 offset, L4 header length, the L4 layer) of a built packet."""
    b = raw(p)
    p = Ether(b)
    l4 = p[TCP] if TCP in p else p[UDP]
    off = len(b) - len(raw(l4))
    return off, (l4.dataofs * 4 if TCP in p else 8), l4


def pseudo_sum(p, l4len):
    """The folded (not complemented) pseudo-header sum Linux leaves in a
    CHECKSUM_PARTIAL frame's L4 checksum field."""
    proto = 6 if TCP in p else 17
    if IP in p:
        ph = (bytes(map(int, p[IP].src.split("."))) +
              bytes(map(int, p[IP].dst.split("."))) +
              struct.pack("!BBH", 0, proto, l4len))
    else:
        import ipaddress
        ph = (ipaddress.IPv6Address(p[IPv6].src).packed +
              ipaddress.IPv6Address(p[IPv6].dst).packed +
              struct.pack("!IxxxB", l4len, proto))
    return fold(sum16(ph))


def partial(p):
    """p's bytes with its L4 checksum replaced by the pseudo-header sum,
    and the header asking for it: what a guest sends with NEEDS_CSUM."""
    b = bytearray(raw(p))
    off, _, l4 = offsets(p)
    at = off + (16 if TCP in p else 6)
    struct.pack_into("!H", b, at, pseudo_sum(p, len(b) - off))
    return bytes(b), off, at - off


def case(name, frame, h, outs):
    print("case", name)
    print("in", (h + frame).hex())
    for o in outs:
        print("out", raw(o).hex() if not isinstance(o, bytes) else o.hex())
    print("end")


def csum_case(name, p):
    b, start, off = partial(p)
    case(name, b, hdr(NEEDS_CSUM, 0, 0, 0, start, off), [p])


def payload(n):
    return bytes((i * 7 + 3) & 0xff for i in range(n))


def tso_case(name, mk, size, mss, flags, gso, ipid=1000, seq=12345):
    """mk(ipid, seq, flags, data) builds one packet of the stream."""
    data = payload(size)
    big = mk(ipid, seq, flags, data)
    b, start, off = partial(big)
    hl = start + offsets(big)[1]
    segs = []
    for i, o in enumerate(range(0, max(size, 1), mss)):
        f = flags
        if o + mss < size:
            f = f.replace("F", "").replace("P", "")
        if i:
            f = f.replace("C", "")
        segs.append(mk((ipid + i) & 0xffff, (seq + o) & 0xffffffff, f,
                       data[o:o + mss]))
    case(name, b, hdr(NEEDS_CSUM, gso, hl, mss, start, off), segs)


def tcp4(vlan=0):
    return lambda i, s, f, d: l2(vlan) / IP(id=i, **V4) / TCP(
        sport=40000, dport=5201, seq=s, ack=777, flags=f, window=502) / d


def tcp6(vlan=0, ext=()):
    def mk(i, s, f, d):
        p = l2(vlan) / IPv6(**V6)
        for e in ext:
            p = p / e()
        return p / TCP(sport=40000, dport=5201, seq=s, ack=777, flags=f) / d
    return mk


def uso(v6):
    def mk(i, s, f, d):
        ip = IPv6(**V6) if v6 else IP(id=i, **V4)
        return l2(0) / ip / UDP(sport=5000, dport=5001) / d
    return mk


def vectors():
    csum_case("tcp4-csum", l2(0) / IP(**V4) / TCP(sport=1, dport=2) / payload(301))
    csum_case("udp4-csum", l2(0) / IP(**V4) / UDP(sport=53, dport=5353) / payload(100))
    csum_case("tcp6-csum", l2(0) / IPv6(**V6) / TCP(sport=1, dport=2) / payload(1000))
    csum_case("udp6-csum", l2(0) / IPv6(**V6) / UDP(sport=9, dport=9) / payload(33))
    csum_case("tcp4-vlan-csum", l2(42) / IP(**V4) / TCP(flags="S") / payload(7))
    csum_case("udp6-exthdr-csum", l2(7) / IPv6(**V6) / IPv6ExtHdrHopByHop() /
              IPv6ExtHdrDestOpt() / UDP() / payload(64))
    tso_case("tso4-fin-psh", tcp4(), 4000, 1448, "FPA", GSO_TCPV4)
    tso_case("tso4-cwr-ecn", tcp4(), 3000, 1000, "CPA", GSO_TCPV4 | GSO_ECN)
    tso_case("tso4-exact", tcp4(), 2896, 1448, "PA", GSO_TCPV4)
    tso_case("tso4-vlan", tcp4(100), 9000, 1460, "A", GSO_TCPV4, ipid=65535,
             seq=0xfffff000)
    tso_case("tso4-one-segment", tcp4(), 500, 1448, "FPA", GSO_TCPV4)
    tso_case("tso4-64k", tcp4(), 65535 - 40, 1448, "PA", GSO_TCPV4)
    tso_case("tso6", tcp6(), 5000, 1440, "CFPA", GSO_TCPV6)
    tso_case("tso6-vlan-exthdr", tcp6(5, (IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                                          IPv6ExtHdrDestOpt)),
             3333, 1200, "PA", GSO_TCPV6 | GSO_ECN)
    tso_case("uso4", uso(False), 3000, 1400, "", GSO_UDP_L4)
    tso_case("uso6", uso(True), 2500, 1000, "", GSO_UDP_L4)
    ufo = l2(0) / IP(id=4242, **V4) / UDP(sport=7, dport=7) / payload(4000)
    b, start, off = partial(ufo)
    frags = [l2(0) / f for f in fragment(ufo[IP], fragsize=1480)]
    case("ufo4", b, hdr(NEEDS_CSUM, GSO_UDP, 0, 1480, start, off), frags)
    bad_vectors()


def bad(name, h, frame):
    print("bad", name, (h + frame).hex())


def bad_vectors():
    t4 = l2(0) / IP(**V4) / TCP() / payload(3000)
    b4, s4, o4 = partial(t4)
    t6 = l2(0) / IPv6(**V6) / TCP() / payload(3000)
    b6, s6, o6 = partial(t6)
    u4 = l2(0) / IP(**V4) / UDP() / payload(3000)
    bu, su, ou = partial(u4)
    fr = raw(l2(0) / IP(flags="MF", **V4) / TCP() / payload(3000))
    bad("csum-start-past-end", hdr(NEEDS_CSUM, 0, 0, 0, len(b4), 0), b4)
    bad("csum-offset-past-end", hdr(NEEDS_CSUM, 0, 0, 0, s4, len(b4) - s4 - 1), b4)
    bad("hdr-len-past-end", hdr(0, GSO_TCPV4, len(b4) + 1, 1448, s4, o4), b4)
    bad("tcpv4-on-ipv6", hdr(NEEDS_CSUM, GSO_TCPV4, 0, 1440, s6, o6), b6)
    bad("tcpv6-on-ipv4", hdr(NEEDS_CSUM, GSO_TCPV6, 0, 1440, s4, o4), b4)
    bad("tcpv4-on-udp", hdr(NEEDS_CSUM, GSO_TCPV4, 0, 1440, su, 16), bu)
    bad("gso-size-zero", hdr(NEEDS_CSUM, GSO_TCPV4, 0, 0, s4, o4), b4)
    bad("ecn-without-gso", hdr(NEEDS_CSUM, GSO_ECN, 0, 0, s4, o4), b4)
    bad("ecn-with-uso", hdr(NEEDS_CSUM, GSO_UDP_L4 | GSO_ECN, 0, 1400, su, ou), bu)
    bad("gso-type-unknown", hdr(NEEDS_CSUM, 2, 0, 1448, s4, o4), b4)
    bad("gso-on-fragment", hdr(0, GSO_TCPV4, 0, 1448, 0, 0), fr)
    bad("flags-unknown", hdr(NEEDS_CSUM | 4, 0, 0, 0, s4, o4), b4)
    bad("gso-csum-not-at-l4", hdr(NEEDS_CSUM, GSO_TCPV4, 0, 1448, s4 - 2, o4), b4)
    bad("runt", hdr(), bytes(10))
    bad("vlan-runt", hdr(NEEDS_CSUM, 0, 0, 0, 0, 0), raw(l2(3))[:16])
    trunc = bytearray(raw(l2(0) / IP(**V4) / TCP()))
    trunc[14 + 20 + 12] = 0xf0  # a 60-byte TCP header in a 54-byte frame
    bad("tcp-header-truncated", hdr(NEEDS_CSUM, 0, 0, 0, 34, 16), bytes(trunc))
    bad("ihl-too-small", hdr(NEEDS_CSUM, 0, 0, 0, s4, o4),
        b4[:14] + bytes([0x44]) + b4[15:])
    bad("ufo-size-under-8", hdr(NEEDS_CSUM, GSO_UDP, 0, 7, su, ou), bu)


def verify(path):
    bad_n = 0
    n = 0
    for line in open(path):
        kind, name, hx = line.split()
        p = Ether(bytes.fromhex(hx))
        n += 1
        why = []
        if IP in p:
            c = p[IP].chksum
            del p[IP].chksum
            q = Ether(raw(p))
            if q[IP].chksum != c:
                why.append("IP checksum %#x, scapy says %#x" % (c, q[IP].chksum))
            p = Ether(bytes.fromhex(hx))
        frag = IP in p and (p[IP].flags.MF or p[IP].frag)
        for L in (TCP, UDP):
            if L in p and not frag:
                c = p[L].chksum
                del p[L].chksum
                q = Ether(raw(p))
                if q[L].chksum != c:
                    why.append("%s checksum %#x, scapy says %#x" %
                               (L.__name__, c, q[L].chksum))
                break
        if why:
            bad_n += 1
            print("# %s: %s" % (name, "; ".join(why)))
    print("%s scapy-reparse (%d frames%s)" %
          ("not ok" if bad_n or not n else "ok", n,
           ", %d with a wrong checksum" % bad_n if bad_n else ""))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        verify(sys.argv[2])
    else:
        vectors()
