#!/usr/bin/env python3
"""An IPv6 flood for hostile.py (hping3 has no IPv6): frames built here and written to the tap as
fast as one Python loop can, until SIGINT (timeout -s INT) or SECS; then, as hping3 does, the line
"N packets transmitted, 0 packets received".

Usage: flood6.py IFACE GUEST_MAC HOST_MAC GUEST_IP6 KIND [SECS]
KIND: syn (TCP SYN to port 80), udp (to the closed port 9), echo (ICMPv6 echo requests), each from
random off-link sources in 2001:db8::/32 and random ports; ra (valid router advertisements: a
random link-local source, every other one fe80::bad:1, hop limit 255, to all nodes, a random /64
prefix with the on-link and autonomous flags, the source's link-layer address).
"""
import os
import random
import signal
import socket
import struct
import sys
import time

IFACE, GMAC, HMAC, GIP6, KIND = sys.argv[1:6]
SECS = float(sys.argv[6]) if len(sys.argv) > 6 else 3600
POOL = 4096             # distinct frames, sent round and round


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(dmac, smac, src, dst, nh, l4, hlim=64, cks_at=None):
    """Ethernet + IPv6 + l4, the upper-layer checksum at l4[cks_at:cks_at + 2] filled in."""
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    if cks_at is not None:
        c = csum(s + d + struct.pack("!I3xB", len(l4), nh) + l4)
        l4 = l4[:cks_at] + struct.pack("!H", c) + l4[cks_at + 2:]
    ip = struct.pack("!IHBB", 6 << 28 | random.getrandbits(20), len(l4), nh, hlim) + s + d
    return bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x86\xdd" + ip + l4


def rand_src():
    return "2001:db8:" + ":".join("%x" % random.getrandbits(16) for _ in range(6))


def build(kind):
    if kind == "syn":
        l4 = lambda: struct.pack("!HHIIBBHHH", random.randrange(1024, 65536), 80, random.getrandbits(32), 0,
                                 5 << 4, 0x02, 64240, 0, 0)
        return [frame(GMAC, HMAC, rand_src(), GIP6, 6, l4(), cks_at=16) for _ in range(POOL)]
    if kind == "udp":
        def l4():
            data = os.urandom(32)
            return struct.pack("!HHHH", random.randrange(1024, 65536), 9, 8 + len(data), 0) + data
        return [frame(GMAC, HMAC, rand_src(), GIP6, 17, l4(), cks_at=6) for _ in range(POOL)]
    if kind == "echo":
        l4 = lambda: struct.pack("!BBHHH", 128, 0, 0, random.getrandbits(16), 1) + b"x" * 16
        return [frame(GMAC, HMAC, rand_src(), GIP6, 58, l4(), cks_at=2) for _ in range(POOL)]
    if kind == "ra":
        out = []
        for i in range(POOL):
            # Every other one from one router (lwIP keeps 3 routers and drops an advertisement
            # from a fourth before its prefixes: these reach the prefix and address tables).
            mac = bytes([0x02, 0xba, 0xd0, 0, 0, 1] if i % 2 else [0x02] + [random.getrandbits(8) for _ in range(5)])
            ll = "fe80::bad:1" if i % 2 else "fe80::%x:%x:%x:%x" % tuple(random.getrandbits(16) for _ in range(4))
            prefix = bytes([0xfd]) + os.urandom(7) + bytes(8)
            # RA: hop limit 64, no flags, router lifetime 1800 s, reachable and retransmit 0;
            # prefix information (type 3, 32 bytes): /64, L and A, valid 3600 s, preferred 1800 s;
            # source link-layer address (type 1).
            l4 = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
            l4 += struct.pack("!BBBBIII", 3, 4, 64, 0xc0, 3600, 1800, 0) + prefix
            l4 += struct.pack("!BB", 1, 1) + mac
            m = ":".join("%02x" % b for b in mac)
            out.append(frame("33:33:00:00:00:01", m, ll, "ff02::1", 58, l4, hlim=255, cks_at=2))
        return out
    raise SystemExit(f"flood6: unknown kind {kind}")


def main():
    frames = build(KIND)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((IFACE, 0))
    sent = 0
    stop = []
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    end = time.time() + SECS
    try:
        while not stop and time.time() < end:
            for f in frames:
                try:
                    s.send(f)
                    sent += 1
                except BlockingIOError:
                    pass
                except OSError:         # the tap's queue full (ENOBUFS): not sent
                    pass
                if stop:
                    break
    finally:
        print(f"--- flood6 {KIND} statistic ---\n{sent} packets transmitted, 0 packets received", flush=True)


main()
