#!/usr/bin/env python3
"""Drive a network backend (tap, pcap) through tests/fixtures/frame_dev.

frame_dev is the VM's NIC: each datagram sent to its socket is a frame
from the "guest", each frame the backend delivers comes back as one
datagram. The frames are built by scapy, byte-exact, and the answers come
from the host kernel of the test's namespace (this script runs inside it),
so what is checked is what Linux's own stack makes of hv's frames.

Prints "ok NAME" / "not ok NAME - why" lines; the checks to run are named
on the command line, in order.
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, IP, TCP, Ether, ICMPv6ND_NA, ICMPv6ND_NS,  # noqa: E402
                       ICMPv6NDOptDstLLAddr, IPv6, Raw, checksum, raw)

VM_MAC = "52:54:00:12:34:56"
HDR = struct.Struct("<BBHHHHH")  # struct hv_net_hdr / virtio_net_hdr_v1
NEEDS_CSUM, GSO_TCPV4, GSO_TCPV6 = 1, 1, 4


def ok(name):
    print(f"ok {name}", flush=True)


def notok(name, why):
    print(f"not ok {name} - {why}", flush=True)


class Nic:
    def __init__(self, a):
        self.a = a
        self.path = a.sock + ".client"
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        os.chmod(self.path, 0o777)  # hv may run as another user
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.sent, self.seen = [], []

    def send(self, frame, hdr=None):
        """A frame from the guest, with a header when the NIC takes them."""
        b = raw(frame)
        if self.a.hdr:
            b = HDR.pack(*(hdr or (0, 0, 0, 0, 0, 0, 0))) + b
        self.sent.append(b[HDR.size if self.a.hdr else 0:])
        self.s.sendto(b, self.a.sock)

    def command(self, c):
        self.s.sendto(c, self.a.sock)

    def frames(self, timeout):
        """(header tuple or None, Ether) for each frame until timeout."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return
            self.s.settimeout(left)
            try:
                b = self.s.recv(1 << 17)
            except socket.timeout:
                return
            h = None
            if self.a.hdr:
                h, b = HDR.unpack(b[:HDR.size]), b[HDR.size:]
            self.seen.append(b)
            e = Ether(b)
            # answer the host's ARP for the VM, as the guest would
            if ARP in e and e[ARP].op == 1 and e[ARP].pdst == self.a.vm_ip:
                self.send(Ether(dst=e.src, src=VM_MAC) /
                          ARP(op=2, hwsrc=VM_MAC, psrc=self.a.vm_ip,
                              hwdst=e[ARP].hwsrc, pdst=e[ARP].psrc))
            if ICMPv6ND_NS in e and e[ICMPv6ND_NS].tgt == self.a.vm_ip6:
                self.send(Ether(dst=e.src, src=VM_MAC) /
                          IPv6(src=self.a.vm_ip6, dst=e[IPv6].src) /
                          ICMPv6ND_NA(tgt=self.a.vm_ip6, R=0, S=1, O=1) /
                          ICMPv6NDOptDstLLAddr(lladdr=VM_MAC))
            yield h, e, b

    def wait(self, pred, timeout=3.0):
        for h, e, b in self.frames(timeout):
            if pred(h, e):
                return h, e, b
        return None


def host_mac(a):
    with open(f"/sys/class/net/{a.iface}/address") as f:
        return f.read().strip()


def check_arp(n, a):
    req = Ether(dst="ff:ff:ff:ff:ff:ff", src=VM_MAC) / ARP(
        op=1, hwsrc=VM_MAC, psrc=a.vm_ip, hwdst="00:00:00:00:00:00", pdst=a.host_ip)
    n.send(req)
    r = n.wait(lambda h, e: ARP in e and e[ARP].op == 2 and e[ARP].psrc == a.host_ip)
    name = f"{a.prefix}-arp-reply"
    if not r:
        return notok(name, f"no ARP reply from {a.host_ip}")
    e = r[1]
    want = (host_mac(a), a.host_ip, VM_MAC, a.vm_ip)
    got = (e[ARP].hwsrc, e[ARP].psrc, e[ARP].hwdst, e[ARP].pdst)
    if got != want or e.dst != VM_MAC or e.src != host_mac(a):
        return notok(name, f"reply {got} {e.src}->{e.dst}, wanted {want}")
    ok(name)


def echo(a, ident, seq, payload=b"hv-netbe-echo" * 4):
    return Ether(dst=host_mac(a), src=VM_MAC) / IP(src=a.vm_ip, dst=a.host_ip) / \
        ICMP(type=8, id=ident, seq=seq) / Raw(payload)


def is_reply(ident, seq):
    return lambda h, e: ICMP in e and e[ICMP].type == 0 and e[ICMP].id == ident \
        and e[ICMP].seq == seq


def valid_sums(e):
    """Whether the IPv4 and ICMP/TCP checksums of e are what scapy computes."""
    c = e.copy()
    if IP in c:
        del c[IP].chksum
    for l4 in (ICMP, TCP):
        if l4 in c:
            del c[l4].chksum
    c = Ether(raw(c))
    return raw(c) == raw(e)


def check_icmp(n, a):
    name = f"{a.prefix}-icmp-echo"
    req = echo(a, 0x4856, 1)
    n.send(req)
    r = n.wait(is_reply(0x4856, 1))
    if not r:
        return notok(name, f"no echo reply from {a.host_ip}")
    e = r[1]
    if e[IP].src != a.host_ip or e[IP].dst != a.vm_ip or \
            raw(e[ICMP].payload) != raw(req[ICMP].payload):
        return notok(name, f"reply {e.summary()} does not match the request")
    if not valid_sums(e):
        return notok(name, "the reply's checksums are not what scapy computes")
    ok(name)


def check_pause(n, a):
    """The NIC refuses (-EAGAIN): the backend holds the frame and reads no
    more until rx_ready; then the held reply arrives."""
    name = f"{a.prefix}-rx-ready"
    n.command(b"P")
    time.sleep(0.2)
    n.send(echo(a, 0x4857, 2))
    early = n.wait(is_reply(0x4857, 2), timeout=1.0)
    n.command(b"R")
    late = n.wait(is_reply(0x4857, 2), timeout=3.0)
    if early:
        return notok(name, "a reply arrived while the NIC refused frames")
    if not late:
        return notok(name, "the held reply never arrived after rx_ready")
    ok(name)


def check_no_echo_back(n, a):
    """Nothing hv sent comes back to it (pcap reads inbound frames only)."""
    name = f"{a.prefix}-no-own-frames"
    n.send(echo(a, 0x4858, 3))
    n.wait(is_reply(0x4858, 3))
    for _ in n.frames(0.5):
        pass
    back = [b for b in n.seen if b in n.sent]
    if back:
        return notok(name, f"{len(back)} of hv's own frames came back: {Ether(back[0]).summary()}")
    ok(name)


def snmp_tcp(field):
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Tcp:")]
    return int(rows[1][rows[0].index(field)])


class Fam:
    """IPv4 or IPv6: addresses, header sizes and the GSO type of a flow."""

    def __init__(self, a, v6):
        self.v6 = v6
        self.host = a.host_ip6 if v6 else a.host_ip
        self.vm = a.vm_ip6 if v6 else a.vm_ip
        self.l4 = 14 + (40 if v6 else 20)  # csum_start of TCP
        self.gso = GSO_TCPV6 if v6 else GSO_TCPV4
        self.mss = 1440 if v6 else 1460
        self.af = socket.AF_INET6 if v6 else socket.AF_INET

    def ip(self, ident):
        if self.v6:
            return IPv6(src=self.vm, dst=self.host)
        return IP(src=self.vm, dst=self.host, id=ident)

    def pseudo_sum(self, length):
        """The folded (not inverted) pseudo-header sum Linux leaves in the
        TCP checksum field of a CHECKSUM_PARTIAL frame."""
        if self.v6:
            ph = socket.inet_pton(self.af, self.vm) + socket.inet_pton(self.af, self.host) + \
                struct.pack("!IxxxB", length, 6)
        else:
            ph = socket.inet_aton(self.vm) + socket.inet_aton(self.host) + \
                struct.pack("!BBH", 0, 6, length)
        return ~checksum(ph) & 0xffff

    def with_tcp_sum(self, frame, value):
        b = bytearray(raw(frame))
        b[self.l4 + 16:self.l4 + 18] = struct.pack("!H", value)
        return Ether(bytes(b))

    def partial(self, frame):
        """frame with its TCP checksum left to the receiver (NEEDS_CSUM)."""
        return self.with_tcp_sum(frame, self.pseudo_sum(len(raw(frame)) - self.l4))

    def hdr(self, gso_size=0):
        return (NEEDS_CSUM, self.gso if gso_size else 0, self.l4 + 20 if gso_size else 0,
                gso_size, self.l4, 16, 0)


class Tcp:
    def __init__(self, n, a, fam, sport):
        self.n, self.a, self.f, self.sport, self.seq = n, a, fam, sport, 1000

    def seg(self, flags, ack=0, payload=b"", opts=None):
        return Ether(dst=host_mac(self.a), src=VM_MAC) / self.f.ip(self.seq & 0xffff) / \
            TCP(sport=self.sport, dport=self.a.port, flags=flags, seq=self.seq,
                ack=ack, window=65535, options=opts or []) / Raw(payload)

    def from_host(self, flags):
        return lambda h, e: TCP in e and e[TCP].dport == self.sport and \
            (e[TCP].flags & flags) == flags


def complete_partial(h, b):
    """Finish a NEEDS_CSUM frame the way its header says."""
    if not h or not (h[0] & NEEDS_CSUM):
        return b
    s, o = h[4], h[5]
    b = bytearray(b)
    b[s + o:s + o + 2] = struct.pack("!H", checksum(bytes(b[s:])))
    return bytes(b)


def listener(f, a, want):
    """A socket of the host's stack on (host, port) reading want bytes of
    its first connection in a thread; the results land in the dict."""
    srv = socket.socket(f.af)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((f.host, a.port))
    srv.listen(4)
    got = {"srv": srv}

    def serve():
        c, _ = srv.accept()
        c.settimeout(5)
        got["conn"] = c
        data = b""
        try:
            while len(data) < want:
                d = c.recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
        got["data"] = data
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    got["thread"] = t
    return got


def check_tcp_family(n, a, v6):
    """The host kernel checks TCP checksums of frames from the tap: a SYN
    with a bad checksum and no header is dropped (TcpInCsumErrors), the
    same SYN with the sum left to it (NEEDS_CSUM) is answered; then a TSO
    frame of 3 segments' data reaches the listening socket intact, and the
    kernel's own TSO comes up as GSO frames."""
    f = Fam(a, v6)
    pre = a.prefix + ("-v6" if v6 else "")
    got = listener(f, a, 3000)
    sport = 40100 if v6 else 40000

    bad = Tcp(n, a, f, sport)
    syn = bad.seg("S", opts=[("MSS", f.mss)])
    good_sum = Ether(raw(syn))[TCP].chksum
    errs = snmp_tcp("InCsumErrors")
    n.send(f.with_tcp_sum(syn, good_sum ^ 0x5a5a))
    r = n.wait(bad.from_host("SA"), timeout=1.5)
    name = f"{pre}-bad-csum-dropped"
    if r:
        notok(name, "the kernel answered a SYN with a bad checksum")
    elif snmp_tcp("InCsumErrors") != errs + 1:
        notok(name, f"TcpInCsumErrors {errs} -> {snmp_tcp('InCsumErrors')}, wanted +1")
    else:
        ok(name)

    c = Tcp(n, a, f, sport + 1)
    n.send(f.partial(c.seg("S", opts=[("MSS", f.mss)])), f.hdr())
    r = n.wait(c.from_host("SA"))
    name = f"{pre}-partial-csum-syn"
    if not r:
        return notok(name, "no SYN/ACK for a SYN with NEEDS_CSUM")
    if snmp_tcp("InCsumErrors") != errs + 1:
        return notok(name, "the NEEDS_CSUM SYN counted as a checksum error")
    ok(name)
    h, e, b = r
    name = f"{pre}-rx-header"
    full = Ether(complete_partial(h, b))
    if a.offload_up and not (h and h[0] & NEEDS_CSUM and h[4] == f.l4 and h[5] == 16):
        notok(name, f"SYN/ACK header {h}: the kernel's partial checksum did not come up")
    elif not valid_sums(full):
        notok(name, f"SYN/ACK header {h}: checksums wrong once completed")
    else:
        ok(name)

    c.seq += 1
    isn = e[TCP].seq
    n.send(c.seg("A", ack=isn + 1))
    payload = os.urandom(3000)
    n.send(f.partial(c.seg("PA", ack=isn + 1, payload=payload)), f.hdr(1000))
    ack = n.wait(lambda h, e: TCP in e and e[TCP].dport == c.sport and
                 e[TCP].ack == c.seq + 3000)
    got["thread"].join(5)
    name = f"{pre}-tso-frame"
    if got.get("data") != payload:
        return notok(name, f"the socket read {len(got.get('data', b''))} bytes, not the 3000 sent")
    if not ack:
        return notok(name, "the data arrived but no ACK for it came back")
    ok(name)
    c.seq += 3000

    # the kernel's own TSO toward the tap: 20 kB from the server should
    # come as GSO frames of MSS-sized segments
    conn = got["conn"]
    conn.sendall(os.urandom(20000))
    if not a.offload_up:
        # a bare tap: the kernel cuts its TSO itself, frames of an MSS
        seg = n.wait(lambda h, e: TCP in e and e[TCP].dport == c.sport and
                     len(e[TCP].payload) > 0)
        name = f"{pre}-segments-up"
        if not seg:
            notok(name, "no data segment from the kernel")
        elif len(seg[2]) > 14 + f.l4 + 20 + f.mss + 40 or not valid_sums(seg[1]):
            notok(name, f"a frame of {len(seg[2])} bytes, or its sums wrong")
        else:
            ok(name)
        n.send(c.seg("R", ack=0))
        conn.close()
        got["srv"].close()
        return
    gso = n.wait(lambda h, e: h is not None and h[1] & 0x7f == f.gso and
                 TCP in e and e[TCP].dport == c.sport)
    name = f"{pre}-gso-up"
    if not gso:
        notok(name, f"no GSO frame of type {f.gso} from the kernel")
    elif gso[0][3] != f.mss or len(gso[2]) <= f.l4 + 20 + f.mss:
        notok(name, f"GSO frame of {len(gso[2])} bytes, gso_size {gso[0][3]}")
    else:
        ok(name)
    n.send(c.seg("R", ack=0))
    conn.close()
    got["srv"].close()


def check_tcp(n, a):
    check_tcp_family(n, a, False)


def check_tcp6(n, a):
    check_tcp_family(n, a, True)


def check_runt(n, a):
    """A 10-byte frame: the backend drops and counts it (the .t script
    reads hv's log for that); the link still works after it."""
    n.s.sendto(bytes(12 if a.hdr else 0) + bytes(10), a.sock)
    n.send(echo(a, 0x485a, 10))
    if n.wait(is_reply(0x485a, 10)):
        ok(f"{a.prefix}-after-runt")
    else:
        notok(f"{a.prefix}-after-runt", "no echo reply after a runt")


def check_oversize(n, a):
    """A frame beyond the interface's MTU (pcap): dropped, not injected."""
    big = Ether(dst=host_mac(a), src=VM_MAC) / IP(src=a.vm_ip, dst=a.host_ip) / \
        ICMP(type=8, id=0x4859, seq=9) / Raw(bytes(a.mtu + 100))
    n.send(big)
    r = n.wait(is_reply(0x4859, 9), timeout=1.0)
    name = f"{a.prefix}-oversize-dropped"
    if r:
        return notok(name, "a frame beyond the MTU reached the host")
    ok(name)


CHECKS = {"arp": check_arp, "icmp": check_icmp, "pause": check_pause,
          "tcp": check_tcp, "tcp6": check_tcp6, "runt": check_runt, "oversize": check_oversize,
          "noecho": check_no_echo_back}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sock", required=True)
    p.add_argument("--hdr", type=int, default=1)
    p.add_argument("--iface", required=True, help="the host's interface")
    p.add_argument("--host-ip", default="10.200.1.1")
    p.add_argument("--vm-ip", default="10.200.1.2")
    p.add_argument("--host-ip6", default="fd00:200::1")
    p.add_argument("--vm-ip6", default="fd00:200::2")
    p.add_argument("--port", type=int, default=5001)
    p.add_argument("--mtu", type=int, default=1500)
    p.add_argument("--prefix", required=True)
    p.add_argument("--offload-up", type=int, default=1,
                   help="the backend hands the kernel's offloads up (tap with vnet_hdr)")
    p.add_argument("--keep", action="store_true",
                   help="leave the VM running (the caller quits it)")
    p.add_argument("checks", nargs="+", choices=sorted(CHECKS))
    a = p.parse_args()
    n = Nic(a)
    for c in a.checks:
        try:
            CHECKS[c](n, a)
        except Exception as ex:  # a broken check is a failure, not a crash
            notok(f"{a.prefix}-{c}", f"{type(ex).__name__}: {ex}")
    if not a.keep:
        n.command(b"Q")


if __name__ == "__main__":
    sys.exit(main())
