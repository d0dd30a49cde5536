#!/usr/bin/env python3
"""Checks the frames a VM puts on a wire, with scapy (not code of ours).

usage: net-wire.py IFACE MAC SECS READY-FILE STOP-FILE
Sniffs IFACE (in the namespace it runs in), touching READY-FILE once the
capture is open, until STOP-FILE exists (at most SECS seconds), and checks every IPv4/IPv6 TCP or
UDP frame whose source is MAC: its length is at most 1514 bytes (a GSO
frame was cut into segments before the wire), and its IP header and
TCP/UDP checksums are the ones scapy computes afresh (a checksum the
guest left to the NIC was finished before the wire). Prints one
"ok net-external-wire-frames - ..." or "not ok ... - why" line.
"""
import os
import sys
import time

from scapy.all import IP, IPv6, TCP, UDP, Ether, AsyncSniffer, raw  # noqa: E402


def bad_sum(pkt):
    """The first layer whose checksum differs from scapy's, or None."""
    for layer in (IP, TCP, UDP):
        if layer in pkt:
            got = pkt[layer].chksum
            fresh = Ether(raw(pkt))
            del fresh[layer].chksum  # scapy fills it in again from the bytes
            want = Ether(raw(fresh))[layer].chksum
            if got != want:
                return f"{layer.__name__} checksum {got:#06x}, scapy computes {want:#06x}"
    return None


def main():
    iface, mac, secs, ready, stop = sys.argv[1], sys.argv[2].lower(), float(sys.argv[3]), sys.argv[4], sys.argv[5]
    sniffer = AsyncSniffer(iface=iface, store=True,
                           lfilter=lambda p: Ether in p and p[Ether].src.lower() == mac)
    sniffer.start()
    time.sleep(0.5)
    open(ready, "w").close()
    end = time.monotonic() + secs
    while not os.path.exists(stop) and time.monotonic() < end:
        time.sleep(0.2)
    time.sleep(0.5)  # the last frames still on their way
    frames = sniffer.stop()
    n = tcp = big = 0
    for p in frames:
        if not (IP in p or IPv6 in p) or not (TCP in p or UDP in p):
            continue
        n += 1
        tcp += TCP in p
        if len(raw(p)) > 1514:
            print(f"not ok net-external-wire-frames - a {len(raw(p))}-byte frame from {mac} on {iface}: "
                  f"{p.summary()}")
            return
        why = bad_sum(p)
        if why:
            print(f"not ok net-external-wire-frames - {why}: {p.summary()}")
            return
        big = max(big, len(raw(p)))
    if tcp < 20:
        print(f"not ok net-external-wire-frames - only {tcp} TCP frames from {mac} on {iface}")
        return
    print(f"ok net-external-wire-frames - scapy: {n} TCP/UDP frames from {mac}, all <= 1514 bytes "
          f"(largest {big}), IP/TCP/UDP checksums all right")


main()
