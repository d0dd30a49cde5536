#!/usr/bin/env python3
"""Seeds for tests/vnic/fuzz_vnic.c: a 4-byte feature word, then 8-byte
commands (op, a = queue << 4 | index, b, v) as command() reads them."""
import os
import struct
import sys

OFFER = 0x47BBAF  # every feature virtio-net offers with queues = 2
NO_OFF = (1 << 3) | (1 << 5) | (1 << 15) | (1 << 16)  # MTU MAC MRG STATUS
WRITE, NEXT = 2, 1


def cmd(op, a=0, b=0, v=0):
    return struct.pack("<BBHI", op, a, b, v)


def desc(q, i, addr, ln, flags=0, nxt=0):
    return cmd(1, q << 4 | i, addr // 16, ln | flags << 14 | nxt << 17)


def poke(addr, v):
    return cmd(3, 0, addr // 4, v)


def offer(q, head):
    return cmd(2, q << 4 | head)


def notify(q):
    return cmd(0, q << 4)


def rx_bufs(sizes):
    out = b""
    for i, sz in enumerate(sizes):
        out += desc(0, i, 0x3000 + 0x800 * i, sz, WRITE) + offer(0, i)
    return out + notify(0)


def tx(frame_len, hdr=b"\0" * 12):
    out = b""
    for k in range(0, 12, 4):
        out += poke(0x8000 + k, struct.unpack("<I", hdr[k:k + 4])[0])
    out += poke(0x800c, 0x5452FFFF)  # a broadcast-ish destination
    return out + desc(1, 0, 0x8000, 12 + frame_len) + offer(1, 0) + notify(1)


def ctrl(cls, c, data, ack_len=1):
    body = bytes([cls, c]) + data
    body += b"\0" * (-len(body) % 4)
    out = b""
    for k in range(0, len(body), 4):
        out += poke(0x9000 + k, struct.unpack("<I", body[k:k + 4])[0])
    out += desc(4, 0, 0x9000, 2 + len(data), NEXT, 1)
    out += desc(4, 1, 0x9100, ack_len, WRITE)
    return out + offer(4, 0) + notify(4)


def main(d):
    os.makedirs(d, exist_ok=True)
    feat = struct.pack("<I", OFFER)
    gso = struct.pack("<BBHHHHH", 1, 1, 54, 1448, 34, 16, 0)  # TSO4, NEEDS_CSUM
    seeds = {
        "rx-mergeable": feat + rx_bufs([32, 32, 2048]) + cmd(4, 0, 0, 100),
        "rx-bare": struct.pack("<I", NO_OFF) + rx_bufs([64, 64]) + cmd(4, 0, 0, 60),
        "rx-big": feat + rx_bufs([1600, 1600, 1600]) + cmd(4, 1, 0x0101, 4000),
        "tx-plain": feat + tx(60),
        "tx-tso": feat + tx(3000, gso),
        "tx-runt": feat + tx(8),
        "ctrl-mq": feat + ctrl(4, 0, struct.pack("<H", 2)) + rx_bufs([2048]) + cmd(4, 0, 0x300, 80),
        "ctrl-offloads": feat + ctrl(5, 0, struct.pack("<Q", 0x3)),
        "ctrl-rx": feat + ctrl(0, 0, b"\1"),
        "link-flip": feat + cmd(10, 0) + tx(60) + cmd(10, 1) + rx_bufs([2048]) + cmd(4, 0, 0, 60),
        "reset": feat + rx_bufs([2048]) + cmd(8, 0, 0, OFFER) + cmd(4, 0, 0, 60) + cmd(9),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
