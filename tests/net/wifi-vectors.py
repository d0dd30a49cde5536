#!/usr/bin/python3
"""The Wi-Fi bridge's translation vectors, built by scapy (an implementation
not written here: its checksums are the reference).

    wifi-vectors.py > tests/unit/wifi_vectors.h

prints a C header: every vector's input frame, the frame the bridge must
produce from it (byte for byte, checksums as scapy computes them) and the
verdict, in the order tests/unit/test_wifi_xlate.c feeds them to one bridge:
outbound frames teach the table what the inbound ones are then delivered
by. tests/net/wifi-vectors.t regenerates the header and diffs it with the
committed one.
"""
import sys

from scapy.all import (ARP, BOOTP, DHCP, ICMPv6EchoRequest, ICMPv6ND_NA,
                       ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect,
                       ICMPv6ND_RS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptSrcLLAddr, IP, IPOption_RR, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, TCP, UDP, Dot1Q, Ether, IPv6,
                       Raw, raw)

ADAPTER = "02:00:00:aa:00:01"   # the station's (the wireless adapter's) MAC
VM1, VM2 = "52:54:00:00:00:01", "52:54:00:00:00:02"
LAN = "02:00:00:00:99:01"       # a host on the LAN (the DHCP server too)
BCAST = "ff:ff:ff:ff:ff:ff"
LAN4, HOST4 = "10.200.7.1", "10.200.7.50"
VM1_4, VM2_4 = "10.200.7.101", "10.200.7.102"
LAN6, HOST6 = "fd00:200::1", "fd00:200::50"
VM1_6, VM2_6 = "fd00:200::101", "fd00:200::102"
VM1_LL, VM2_LL = "fe80::5054:ff:fe00:1", "fe80::5054:ff:fe00:2"
PAYLOAD = Raw(b"hv wifi bridge vector\n")

vectors = []  # (name, direction, verdict, in bytes, out bytes)


def vec(name, way, frame, expect=None, verdict="WB_PASS"):
    """expect: the frame the bridge must produce; None: unchanged."""
    b = raw(frame)
    assert expect is None or len(raw(expect)) == len(b), name  # in place
    vectors.append((name, way, verdict, b, raw(expect) if expect is not None else b))


def solicited(ip6):
    import ipaddress
    last = ipaddress.IPv6Address(ip6).packed[13:]
    return ("ff02::1:ff%02x:%02x%02x" % tuple(last),
            "33:33:ff:%02x:%02x:%02x" % tuple(last))


def dhcp(op, src_mac, dst_mac, sip, dip, sport, dport, flags, yiaddr, mtype,
         chksum=None, ipopts=False):
    opts = [("message-type", mtype), ("client_id", b"\x01" + bytes.fromhex(VM1.replace(":", ""))),
            "end"]
    udp = UDP(sport=sport, dport=dport) if chksum is None else UDP(sport=sport, dport=dport, chksum=chksum)
    ip = IP(src=sip, dst=dip, id=7, options=[IPOption_RR(routers=["0.0.0.0"])] if ipopts else [])
    return (Ether(src=src_mac, dst=dst_mac) / ip / udp /
            BOOTP(op=op, xid=0x12345678, flags=flags, yiaddr=yiaddr,
                  chaddr=bytes.fromhex(VM1.replace(":", "")) + b"\0" * 10) / DHCP(options=opts))


def tcp4(smac, dmac, sip, dip):
    return (Ether(src=smac, dst=dmac) / IP(src=sip, dst=dip, id=1) /
            TCP(sport=40000, dport=5201, seq=1000, ack=2000, flags="PA", window=502) / PAYLOAD)


def tcp6(smac, dmac, sip, dip):
    return (Ether(src=smac, dst=dmac) / IPv6(src=sip, dst=dip) /
            TCP(sport=40001, dport=5201, seq=1000, ack=2000, flags="PA", window=502) / PAYLOAD)


def nd(smac, dmac, sip, dip, body):
    return Ether(src=smac, dst=dmac) / IPv6(src=sip, dst=dip, hlim=255) / body


def build():
    # --- DHCPv4: the VM's DISCOVER leaves asking for a broadcast reply
    # (scapy recomputes the UDP checksum); the server's ACK teaches the table
    vec("dhcp_discover_out", "out",
        dhcp(1, VM1, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0, "0.0.0.0", "discover"),
        dhcp(1, ADAPTER, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0x8000, "0.0.0.0", "discover"))
    vec("dhcp_discover_nocsum_out", "out",
        dhcp(1, VM1, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0, "0.0.0.0", "discover", chksum=0),
        dhcp(1, ADAPTER, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0x8000, "0.0.0.0", "discover",
             chksum=0))
    vec("dhcp_offer_unicast_in", "in",  # to the station, for the VM that asked
        dhcp(2, LAN, ADAPTER, LAN4, "10.200.7.120", 67, 68, 0, "10.200.7.120", "offer"),
        dhcp(2, LAN, VM1, LAN4, "10.200.7.120", 67, 68, 0, "10.200.7.120", "offer"))
    vec("dhcp_ack_in", "in",
        dhcp(2, LAN, BCAST, LAN4, "255.255.255.255", 67, 68, 0x8000, VM1_4, "ack"))
    # --- ARP both ways
    vec("arp_request_out", "out",
        Ether(src=VM1, dst=BCAST) / ARP(op=1, hwsrc=VM1, psrc=VM1_4, pdst=LAN4),
        Ether(src=ADAPTER, dst=BCAST) / ARP(op=1, hwsrc=ADAPTER, psrc=VM1_4, pdst=LAN4))
    vec("arp_reply_in", "in",
        Ether(src=LAN, dst=ADAPTER) / ARP(op=2, hwsrc=LAN, psrc=LAN4, hwdst=ADAPTER, pdst=VM1_4),
        Ether(src=LAN, dst=VM1) / ARP(op=2, hwsrc=LAN, psrc=LAN4, hwdst=VM1, pdst=VM1_4))
    vec("arp_request_in", "in",
        Ether(src=LAN, dst=BCAST) / ARP(op=1, hwsrc=LAN, psrc=LAN4, pdst=VM1_4),
        Ether(src=LAN, dst=VM1) / ARP(op=1, hwsrc=LAN, psrc=LAN4, pdst=VM1_4))
    vec("arp_reply_out", "out",
        Ether(src=VM1, dst=LAN) / ARP(op=2, hwsrc=VM1, psrc=VM1_4, hwdst=LAN, pdst=LAN4),
        Ether(src=ADAPTER, dst=LAN) / ARP(op=2, hwsrc=ADAPTER, psrc=VM1_4, hwdst=LAN, pdst=LAN4))
    vec("arp_request_other_in", "in",  # for an address no VM has: flooded as is
        Ether(src=LAN, dst=BCAST) / ARP(op=1, hwsrc=LAN, psrc=LAN4, pdst="10.200.7.200"))
    # --- IPv4 unicast
    vec("tcp4_out", "out", tcp4(VM1, LAN, VM1_4, LAN4), tcp4(ADAPTER, LAN, VM1_4, LAN4))
    vec("tcp4_in", "in", tcp4(LAN, ADAPTER, LAN4, VM1_4), tcp4(LAN, VM1, LAN4, VM1_4))
    vec("tcp4_vm2_out", "out", tcp4(VM2, LAN, VM2_4, LAN4), tcp4(ADAPTER, LAN, VM2_4, LAN4))
    vec("tcp4_vm2_in", "in", tcp4(LAN, ADAPTER, LAN4, VM2_4), tcp4(LAN, VM2, LAN4, VM2_4))
    # --- Neighbor Discovery
    sn1, sn1mac = solicited(VM1_6)
    snl, snlmac = solicited(LAN6)
    vec("dad_ns_out", "out",
        nd(VM1, sn1mac, "::", sn1, ICMPv6ND_NS(tgt=VM1_6)),
        nd(ADAPTER, sn1mac, "::", sn1, ICMPv6ND_NS(tgt=VM1_6)))
    vec("dad_taken_out", "out",  # VM2 probes VM1's address: out, learns nothing
        nd(VM2, sn1mac, "::", sn1, ICMPv6ND_NS(tgt=VM1_6)),
        nd(ADAPTER, sn1mac, "::", sn1, ICMPv6ND_NS(tgt=VM1_6)))
    vec("ns_out", "out",
        nd(VM1, snlmac, VM1_6, snl, ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=VM1)),
        nd(ADAPTER, snlmac, VM1_6, snl, ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=ADAPTER)))
    vec("na_in", "in",
        nd(LAN, ADAPTER, LAN6, VM1_6, ICMPv6ND_NA(tgt=LAN6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=LAN)),
        nd(LAN, VM1, LAN6, VM1_6, ICMPv6ND_NA(tgt=LAN6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=LAN)))
    vec("ns_solicited_in", "in",
        nd(LAN, sn1mac, LAN6, sn1, ICMPv6ND_NS(tgt=VM1_6) / ICMPv6NDOptSrcLLAddr(lladdr=LAN)),
        nd(LAN, VM1, LAN6, sn1, ICMPv6ND_NS(tgt=VM1_6) / ICMPv6NDOptSrcLLAddr(lladdr=LAN)))
    vec("ns_unicast_in", "in",  # NUD: unicast to the VM's address
        nd(LAN, ADAPTER, LAN6, VM1_6, ICMPv6ND_NS(tgt=VM1_6) / ICMPv6NDOptSrcLLAddr(lladdr=LAN)),
        nd(LAN, VM1, LAN6, VM1_6, ICMPv6ND_NS(tgt=VM1_6) / ICMPv6NDOptSrcLLAddr(lladdr=LAN)))
    vec("dad_ns_in", "in",  # a LAN host probing a VM's address: that VM defends
        nd(LAN, sn1mac, "::", sn1, ICMPv6ND_NS(tgt=VM1_6)),
        nd(LAN, VM1, "::", sn1, ICMPv6ND_NS(tgt=VM1_6)))
    vec("na_out", "out",
        nd(VM1, LAN, VM1_6, LAN6, ICMPv6ND_NA(tgt=VM1_6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=VM1)),
        nd(ADAPTER, LAN, VM1_6, LAN6, ICMPv6ND_NA(tgt=VM1_6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=ADAPTER)))
    vec("rs_out", "out",
        nd(VM2, "33:33:00:00:00:02", VM2_LL, "ff02::2", ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=VM2)),
        nd(ADAPTER, "33:33:00:00:00:02", VM2_LL, "ff02::2", ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=ADAPTER)))
    vec("ra_in", "in",  # multicast: flooded as is
        nd(LAN, "33:33:00:00:00:01", "fe80::1", "ff02::1",
           ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=LAN) / ICMPv6NDOptPrefixInfo(prefix="fd00:200::")))
    vec("redirect_out", "out",
        nd(VM1, LAN, VM1_LL, LAN6,
           ICMPv6ND_Redirect(tgt=VM2_6, dst="fd00:200::99") / ICMPv6NDOptDstLLAddr(lladdr=VM2)),
        nd(ADAPTER, LAN, VM1_LL, LAN6,
           ICMPv6ND_Redirect(tgt=VM2_6, dst="fd00:200::99") / ICMPv6NDOptDstLLAddr(lladdr=ADAPTER)))
    vec("ra_out", "out",  # a VM acting as a router leaks no MAC either
        nd(VM1, "33:33:00:00:00:01", VM1_LL, "ff02::1",
           ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=VM1) / ICMPv6NDOptPrefixInfo(prefix="fd00:201::")),
        nd(ADAPTER, "33:33:00:00:00:01", VM1_LL, "ff02::1",
           ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=ADAPTER) / ICMPv6NDOptPrefixInfo(prefix="fd00:201::")))
    vec("ns_hbh_out", "out",  # behind a hop-by-hop header: still found
        Ether(src=VM1, dst=snlmac) / IPv6(src=VM1_6, dst=snl, hlim=255) / IPv6ExtHdrHopByHop() /
        ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=VM1),
        Ether(src=ADAPTER, dst=snlmac) / IPv6(src=VM1_6, dst=snl, hlim=255) / IPv6ExtHdrHopByHop() /
        ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=ADAPTER))
    vec("arp_unicast_request_in", "in",  # Linux's NUD re-check names the station
        Ether(src=LAN, dst=ADAPTER) / ARP(op=1, hwsrc=LAN, psrc=LAN4, hwdst=ADAPTER, pdst=VM1_4),
        Ether(src=LAN, dst=VM1) / ARP(op=1, hwsrc=LAN, psrc=LAN4, hwdst=VM1, pdst=VM1_4))
    vec("lldp_in", "in",  # multicast of another protocol: flooded as is
        Ether(src=LAN, dst="01:80:c2:00:00:0e", type=0x88cc) / Raw(b"\x02\x07\x04" + b"\0" * 6))
    vec("dhcp_ipopts_out", "out",  # IPv4 options before UDP
        dhcp(1, VM1, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0, "0.0.0.0", "request", ipopts=True),
        dhcp(1, ADAPTER, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0x8000, "0.0.0.0", "request",
             ipopts=True))
    vec("dhcp_bcast_set_out", "out",  # the flag already set: only the MAC changes
        dhcp(1, VM1, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0x8000, "0.0.0.0", "request"),
        dhcp(1, ADAPTER, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0x8000, "0.0.0.0", "request"))
    vec("udp6_fragment_out", "out",  # a first fragment of UDP: not ND, passes
        Ether(src=VM2, dst=LAN) / IPv6(src=VM2_6, dst=LAN6) / IPv6ExtHdrFragment(m=1, id=3) /
        UDP(sport=5000, dport=5001) / PAYLOAD,
        Ether(src=ADAPTER, dst=LAN) / IPv6(src=VM2_6, dst=LAN6) / IPv6ExtHdrFragment(m=1, id=3) /
        UDP(sport=5000, dport=5001) / PAYLOAD)
    # --- IPv6 unicast
    vec("tcp6_out", "out", tcp6(VM2, LAN, VM2_6, LAN6), tcp6(ADAPTER, LAN, VM2_6, LAN6))
    vec("tcp6_in", "in", tcp6(LAN, ADAPTER, LAN6, VM2_6), tcp6(LAN, VM2, LAN6, VM2_6))
    vec("echo6_in", "in",
        Ether(src=LAN, dst=ADAPTER) / IPv6(src=LAN6, dst=VM1_6) / ICMPv6EchoRequest(id=1, seq=1),
        Ether(src=LAN, dst=VM1) / IPv6(src=LAN6, dst=VM1_6) / ICMPv6EchoRequest(id=1, seq=1))
    vec("dhcpv6_out", "out",  # DUID and all: only the Ethernet source changes
        Ether(src=VM1, dst="33:33:00:01:00:02") / IPv6(src=VM1_LL, dst="ff02::1:2") /
        UDP(sport=546, dport=547) / Raw(bytes.fromhex("01abcdef0001000a00030001525400000001")),
        Ether(src=ADAPTER, dst="33:33:00:01:00:02") / IPv6(src=VM1_LL, dst="ff02::1:2") /
        UDP(sport=546, dport=547) / Raw(bytes.fromhex("01abcdef0001000a00030001525400000001")))

    # --- hostile input: the verdict, the frame left as it came
    arp = raw(Ether(src=VM2, dst=BCAST) / ARP(op=1, hwsrc=VM2, psrc=VM2_4, pdst=LAN4))
    vec("arp_truncated_out", "out", Raw(arp[:14 + 20]), verdict="WB_DROP_RUNT")
    arp_in = raw(Ether(src=LAN, dst=BCAST) / ARP(op=1, hwsrc=LAN, psrc=LAN4, pdst=VM1_4))
    vec("arp_truncated_in", "in", Raw(arp_in[:14 + 27]), verdict="WB_DROP_RUNT")
    vec("arp_hlen_out", "out", Ether(src=VM2, dst=BCAST) / ARP(op=1, hwlen=8, hwsrc=VM2, psrc=VM2_4, pdst=LAN4),
        verdict="WB_DROP_MALFORMED")
    vec("nd_optlen0_out", "out",
        nd(VM2, snlmac, VM2_6, snl, ICMPv6ND_NS(tgt=LAN6) / Raw(bytes.fromhex("0100" + "525400000002"))),
        verdict="WB_DROP_MALFORMED")
    vec("nd_optpastend_out", "out",
        nd(VM2, snlmac, VM2_6, snl, ICMPv6ND_NS(tgt=LAN6) / Raw(bytes.fromhex("0102" + "525400000002"))),
        verdict="WB_DROP_MALFORMED")
    vec("nd_optlen0_in", "in",
        nd(LAN, sn1mac, LAN6, sn1, ICMPv6ND_NS(tgt=VM1_6) / Raw(bytes.fromhex("0100" + "020000009901"))),
        verdict="WB_DROP_MALFORMED")
    vec("nd_badcsum_out", "out",
        nd(VM2, snlmac, VM2_6, snl, ICMPv6ND_NS(tgt=LAN6, cksum=0x1234) / ICMPv6NDOptSrcLLAddr(lladdr=VM2)),
        verdict="WB_DROP_MALFORMED")
    vec("dhcp_badcsum_out", "out",
        dhcp(1, VM2, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, 0, "0.0.0.0", "discover", chksum=0x1234),
        verdict="WB_DROP_MALFORMED")
    vec("mcast_src_out", "out", tcp4("01:00:5e:00:00:01", LAN, VM2_4, LAN4), verdict="WB_DROP_SPOOF")
    vec("adapter_src_out", "out", tcp4(ADAPTER, LAN, VM2_4, LAN4), verdict="WB_DROP_SPOOF")
    vec("host_addr_out", "out", tcp4(VM2, LAN, HOST4, LAN4), verdict="WB_DROP_HOST")
    vec("host_addr6_out", "out", tcp6(VM2, LAN, HOST6, LAN6), verdict="WB_DROP_HOST")
    vec("host_arp_out", "out", Ether(src=VM2, dst=BCAST) / ARP(op=1, hwsrc=VM2, psrc=HOST4, pdst=LAN4),
        verdict="WB_DROP_HOST")
    vec("other_vm_addr_out", "out", tcp4(VM2, LAN, VM1_4, LAN4), verdict="WB_DROP_SPOOF")
    vec("other_vm_arp_out", "out", Ether(src=VM2, dst=BCAST) / ARP(op=2, hwsrc=VM2, psrc=VM1_4, pdst=LAN4),
        verdict="WB_DROP_SPOOF")
    vec("other_vm_addr6_out", "out", tcp6(VM2, LAN, VM1_6, LAN6), verdict="WB_DROP_SPOOF")
    vec("nd_fragment_out", "out",  # RFC 6980: no ND in fragments
        Ether(src=VM2, dst=snlmac) / IPv6(src=VM2_6, dst=snl, hlim=255) / IPv6ExtHdrFragment(m=1, id=9) /
        ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=VM2), verdict="WB_DROP_MALFORMED")
    vec("nd_routed_out", "out",
        Ether(src=VM2, dst=snlmac) / IPv6(src=VM2_6, dst=snl, hlim=255) / IPv6ExtHdrRouting(addresses=[LAN6]) /
        ICMPv6ND_NS(tgt=LAN6) / ICMPv6NDOptSrcLLAddr(lladdr=VM2), verdict="WB_DROP_MALFORMED")
    vec("nd_tlla_len2_out", "out",
        nd(VM2, LAN, VM2_6, LAN6, ICMPv6ND_NA(tgt=VM2_6) / Raw(bytes.fromhex("0202525400000002" + "00" * 8))),
        verdict="WB_DROP_MALFORMED")
    vec("arp_op3_out", "out", Ether(src=VM2, dst=BCAST) / ARP(op=3, hwsrc=VM2, psrc=VM2_4, pdst=LAN4),
        verdict="WB_DROP_PROTO")
    vec("dhcp_short_out", "out",  # a BOOTP message cut short
        Ether(src=VM2, dst=BCAST) / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
        Raw(b"\x01\x01\x06\x00" + b"\0" * 100), verdict="WB_DROP_MALFORMED")
    vec("vlan_in", "in", Ether(src=LAN, dst=BCAST) / Dot1Q(vlan=5) / ARP(op=1, hwsrc=LAN, psrc=LAN4, pdst=VM1_4),
        verdict="WB_DROP_PROTO")
    ack = raw(dhcp(2, LAN, BCAST, LAN4, "255.255.255.255", 67, 68, 0x8000, VM1_4, "ack"))
    vec("dhcp_badopts_in", "in",  # option 61 claims 255 bytes: past the end
        Ether(src=LAN, dst=BCAST) / IP(src=LAN4, dst="255.255.255.255", id=7) / UDP(sport=67, dport=68) /
        Raw(ack[42:42 + 236 + 4] + b"\x35\x01\x05\x3d\xff\x01"), verdict="WB_DROP_MALFORMED")
    vec("ip4_runt_out", "out", Raw(raw(tcp4(VM2, LAN, VM2_4, LAN4))[:50]), verdict="WB_DROP_RUNT")
    vec("ip6_runt_in", "in", Raw(raw(tcp6(LAN, ADAPTER, LAN6, VM2_6))[:80]), verdict="WB_DROP_RUNT")
    vec("vlan_out", "out", Ether(src=VM1, dst=LAN) / Dot1Q(vlan=5) / IP(src=VM1_4, dst=LAN4) / UDP(),
        verdict="WB_DROP_PROTO")
    vec("lldp_out", "out", Ether(src=VM1, dst="01:80:c2:00:00:0e", type=0x88cc) / Raw(b"\x02\x07\x04" + b"\0" * 6),
        verdict="WB_DROP_PROTO")
    vec("loop_in", "in", tcp4(ADAPTER, LAN, LAN4, VM1_4), verdict="WB_DROP_LOOP")
    vec("unknown_in", "in", tcp4(LAN, ADAPTER, LAN4, "10.200.7.200"), verdict="WB_DROP_UNKNOWN")
    vec("unknown6_in", "in", tcp6(LAN, ADAPTER, LAN6, "fd00:200::200"), verdict="WB_DROP_UNKNOWN")
    vec("host_in", "in", tcp4(LAN, ADAPTER, LAN4, HOST4), verdict="WB_DROP_HOST")
    vec("host6_in", "in", tcp6(LAN, ADAPTER, LAN6, HOST6), verdict="WB_DROP_HOST")
    vec("other_unicast_in", "in", tcp4(LAN, VM1, LAN4, VM1_4), verdict="WB_DROP_UNKNOWN")


def carray(name, b):
    lines = []
    for i in range(0, len(b), 12):
        lines.append("\t" + " ".join("0x%02x," % x for x in b[i:i + 12]))
    return "static const uint8_t %s[%d] = {\n%s\n};\n" % (name, len(b), "\n".join(lines))


def mac(m):
    return "{ " + ", ".join("0x" + x for x in m.split(":")) + " }"


def main():
    build()
    w = sys.stdout.write
    w("/* Generated by tests/net/wifi-vectors.py (scapy): do not edit.\n"
      " * tests/net/wifi-vectors.t regenerates and diffs it. */\n")
    for n, v in (("ADAPTER", ADAPTER), ("VM1", VM1), ("VM2", VM2), ("LAN", LAN)):
        w("#define WV_%s %s\n" % (n, mac(v)))
    for n, v in (("LAN4", LAN4), ("HOST4", HOST4), ("VM1_4", VM1_4), ("VM2_4", VM2_4),
                 ("LAN6", LAN6), ("HOST6", HOST6), ("VM1_6", VM1_6), ("VM2_6", VM2_6)):
        w('#define WV_%s "%s"\n' % (n, v))
    for name, way, verdict, a, b in vectors:
        w(carray("wv_%s_in" % name, a))
        if b != a:
            w(carray("wv_%s_out" % name, b))
    w("static const struct wifi_vec wifi_vecs[] = {\n")
    for name, way, verdict, a, b in vectors:
        out = "wv_%s_%s" % (name, "out" if b != a else "in")
        w('\t{ "%s", %d, %s, wv_%s_in, sizeof(wv_%s_in), %s },\n'
          % (name, way == "out", verdict, name, name, out))
    w("};\n")


main()
