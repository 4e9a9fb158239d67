#!/usr/bin/env python3
"""Write fuzz_rx's seed corpus (tests/fuzz/seeds/fuzz_rx): frame sequences in the input format of
tests/fuzz/fuzz_rx.c, addressed as tests/fuzz/rx_frames.h says. Run again after changing either."""
import os
import struct
import sys

OUR_MAC = bytes.fromhex("02005e100001")
PEER_MAC = bytes.fromhex("02005e100002")
OUR_IP = bytes([198, 18, 0, 2])
PEER_IP = bytes([198, 18, 0, 9])
ISN = 0x10000000                        # FZ_ISN: the server's SYN-ACK sequence number
OUR_LL6 = bytes.fromhex("fe80000000000000" "00005efffe100001")     # from OUR_MAC (EUI-64)
PEER_LL6 = bytes.fromhex("fe80000000000000" "00005efffe100002")
ROUTER_LL6 = bytes.fromhex("fe80000000000000" "0000000000000001")
PREFIX6 = bytes.fromhex("fd00019800180000")
FIX, CSUM_OK, Q1, HASH = 0x02, 0x04, 0x01, 0x08


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(t, payload, dst=OUR_MAC):
    return dst + PEER_MAC + struct.pack("!H", t) + payload


def ipv4(proto, l4, src=PEER_IP, dst=OUR_IP, ident=1, frag=0, tot=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot or 20 + len(l4), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def l4sum(proto, seg, src=PEER_IP, dst=OUR_IP):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def tcp(sp, seq, ack, flags, data=b"", dp=80, win=65535, opts=b""):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, off << 4, flags, win, 0, 0) + opts
    s = h + data
    c = l4sum(6, s)
    return eth(0x0800, ipv4(6, s[:16] + struct.pack("!H", c) + s[18:]))


def udp(sp, dp, data, src=PEER_IP, dst=OUR_IP, dst_mac=OUR_MAC):
    s = struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
    c = l4sum(17, s, src, dst) or 0xffff
    return eth(0x0800, ipv4(17, s[:6] + struct.pack("!H", c) + s[8:], src, dst), dst_mac)


def arp(op=1, tip=OUR_IP):
    a = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + PEER_MAC + PEER_IP + b"\0" * 6 + tip
    return eth(0x0806, a + b"\0" * 18, b"\xff" * 6)


def icmp(t, code, body, ident=7):
    m = struct.pack("!BBHI", t, code, 0, 0) + body
    m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
    return eth(0x0800, ipv4(1, m, ident=ident))


def ipv6(nh, payload, src=PEER_LL6, dst=OUR_LL6, hlim=64, plen=None):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload) if plen is None else plen, nh, hlim, src, dst) + payload


def sum6(nh, seg, src, dst):
    return csum(src + dst + struct.pack("!IxxxB", len(seg), nh) + seg)


def tcp6(sp, seq, ack, flags, data=b"", dp=80, opts=b"", src=PEER_LL6, dst=OUR_LL6):
    off = (20 + len(opts)) // 4
    sg = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, off << 4, flags, 65535, 0, 0) + opts + data
    sg = sg[:16] + struct.pack("!H", sum6(6, sg, src, dst)) + sg[18:]
    return eth(0x86dd, ipv6(6, sg, src, dst))


def icmp6(t, code, body, src=PEER_LL6, dst=OUR_LL6, hlim=255, dst_mac=OUR_MAC):
    m = struct.pack("!BBH", t, code, 0) + body
    m = m[:2] + struct.pack("!H", sum6(58, m, src, dst)) + m[4:]
    return eth(0x86dd, ipv6(58, m, src, dst, hlim), dst_mac)


def rec(frame, ctl=FIX, adv=0):
    return struct.pack("<BBH", ctl, adv, len(frame)) + frame


SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04
MSS = b"\x02\x04\x05\xb4"
GET = b"GET / HTTP/1.1\r\nHost: pollux\r\n\r\n"


def handshake(sp=40000, ctl=FIX):
    return [rec(arp(), ctl), rec(tcp(sp, 1000, 0, SYN, opts=MSS), ctl), rec(tcp(sp, 1001, ISN + 1, ACK), ctl)]


def seeds():
    s = {}
    s["arp"] = [rec(arp()), rec(arp(op=2), adv=10)]
    s["syn"] = [rec(arp()), rec(tcp(40000, 1000, 0, SYN, opts=MSS))]
    s["get"] = handshake() + [rec(tcp(40000, 1001, ISN + 1, ACK | PSH, GET)),
                              rec(tcp(40000, 1001 + len(GET), ISN + 1 + 200, ACK | FIN), adv=5)]
    get2 = b"GET /hello HTTP/1.1\r\nHost: p\r\n\r\nGET /nope HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n"
    s["get-pipelined-q1"] = handshake(40001, FIX | Q1 | CSUM_OK) + [
        rec(tcp(40001, 1001, ISN + 1, ACK | PSH, get2[:20]), FIX | Q1),
        rec(tcp(40001, 1021, ISN + 1, ACK | PSH, get2[20:]), FIX | Q1, adv=50)]
    s["tcp-ooseq-rst"] = handshake(40002) + [
        rec(tcp(40002, 1001 + 10, ISN + 1, ACK, GET[10:])),
        rec(tcp(40002, 1001, ISN + 1, ACK, GET[:10]), adv=30),
        rec(tcp(40002, 1001 + len(GET), ISN + 1, RST))]
    # A ping in two fragments, the later one first; a UDP datagram in fragments to a closed port.
    ping = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + bytes(range(256)) * 6
    ping = ping[:2] + struct.pack("!H", csum(ping)) + ping[4:]
    f1 = eth(0x0800, ipv4(1, ping[:1000], ident=77, frag=0x2000, tot=20 + 1000))
    f2 = eth(0x0800, ipv4(1, ping[1000:], ident=77, frag=1000 // 8, tot=20 + len(ping) - 1000))
    s["ip-frags"] = [rec(arp()), rec(f2), rec(f1, adv=1)]
    u = struct.pack("!HHHH", 5000, 9999, 8 + 600, 0) + b"u" * 600
    u1 = eth(0x0800, ipv4(17, u[:304], ident=78, frag=0x2000, tot=20 + 304))
    u2 = eth(0x0800, ipv4(17, u[304:], ident=78, frag=304 // 8, tot=20 + len(u) - 304))
    s["udp-frags"] = [rec(arp()), rec(u1, FIX | Q1), rec(u2)]
    # ICMP errors about a connection (port unreachable, fragmentation needed), and an echo request.
    inner = ipv4(6, struct.pack("!HHI", 80, 40003, ISN), src=OUR_IP, dst=PEER_IP)
    s["icmp-errors"] = handshake(40003) + [
        rec(icmp(3, 3, inner[:28])), rec(icmp(3, 4, inner[:28])),
        rec(icmp(8, 0, b"ping" * 8)), rec(icmp(11, 0, inner[:28]), FIX | Q1)]
    # DHCP to port 68: an OFFER of another server with an unknown transaction, and a NAK.
    def dhcp(typ, xid):
        m = struct.pack("!BBBBIHH4s4s4s4s16s", 2, 1, 6, 0, xid, 0, 0, b"\0" * 4, bytes([198, 18, 0, 77]),
                        b"\0" * 4, b"\0" * 4, OUR_MAC + b"\0" * 10) + b"\0" * 192 + b"\x63\x82\x53\x63"
        m += bytes([53, 1, typ, 54, 4, 198, 18, 0, 1, 51, 4, 0, 0, 0, 60, 1, 4, 255, 255, 255, 0, 255])
        return udp(67, 68, m, src=bytes([198, 18, 0, 1]), dst=b"\xff" * 4, dst_mac=b"\xff" * 6)
    s["dhcp-68"] = [rec(dhcp(2, 0x12345678)), rec(dhcp(6, 0x12345678), FIX | Q1), rec(dhcp(5, 0))]
    # A VLAN-tagged SYN, an IPv6 TCP SYN, and an LLC frame.
    syn = tcp(40004, 1000, 0, SYN)
    ip6 = struct.pack("!IHBB16s16s", 0x60000000, 20, 6, 64, b"\xfe\x80" + b"\0" * 13 + b"\x09",
                      b"\xfe\x80" + b"\0" * 13 + b"\x02") + syn[34:54]
    s["vlan-ipv6"] = [rec(arp()), rec(syn[:12] + b"\x81\x00\x00\x05" + syn[12:]), rec(eth(0x86dd, ip6)),
                      rec(OUR_MAC + PEER_MAC + struct.pack("!H", 46) + b"\xaa" * 46)]
    s["udp-local"] = [rec(arp()), rec(udp(5000, 80, b"hello")), rec(udp(68, 67, b"x" * 300), FIX | Q1)]
    # IPv6 to the link-local address: a neighbour solicitation (with the peer's link-layer address),
    # a handshake and a GET, an echo request; then the same from another queue.
    lla = b"\x01\x01" + PEER_MAC
    ns6 = icmp6(135, 0, b"\0" * 4 + OUR_LL6 + lla, dst=b"\xff\x02" + b"\0" * 9 + b"\x01\xff\x10\x00\x01",
                dst_mac=bytes.fromhex("3333ff100001"))
    s["ipv6-get"] = [rec(ns6), rec(tcp6(41000, 1000, 0, SYN, opts=MSS)), rec(tcp6(41000, 1001, ISN + 1, ACK)),
                     rec(tcp6(41000, 1001, ISN + 1, ACK | PSH, GET)), rec(icmp6(128, 0, b"\0\x07\0\x01" + b"ping" * 4)),
                     rec(tcp6(41000, 1001 + len(GET), ISN + 1 + 200, ACK | FIN), FIX | Q1, adv=5)]
    # A router advertisement of a /64 for SLAAC (from a link-local router, hop limit 255), then a
    # handshake on the address it made; and one with hop limit 64 (off-link: refused).
    pio = struct.pack("!BBBBIII", 3, 4, 64, 0xc0, 3600, 1800, 0) + PREFIX6 + b"\0" * 8
    ra = struct.pack("!BBHII", 64, 0, 1800, 0, 0) + pio + b"\x01\x01" + PEER_MAC
    all_nodes = b"\xff\x02" + b"\0" * 13 + b"\x01"
    s["ipv6-ra"] = [rec(icmp6(134, 0, ra, src=ROUTER_LL6, dst=all_nodes, dst_mac=bytes.fromhex("333300000001"))),
                    rec(icmp6(134, 0, ra, src=ROUTER_LL6, dst=all_nodes, hlim=64, dst_mac=bytes.fromhex("333300000001")),
                        adv=230),
                    rec(tcp6(41001, 5000, 0, SYN, opts=MSS, dst=PREFIX6 + bytes.fromhex("00005efffe100001"))),
                    rec(tcp6(41001, 5001, ISN + 1, ACK, dst=PREFIX6 + bytes.fromhex("00005efffe100001")))]
    # A ping in two IPv6 fragments, later one first; a Packet Too Big about a connection; an
    # extension header chain (hop-by-hop, destination options) before TCP.
    ping6 = struct.pack("!BBHHH", 128, 0, 0, 9, 1) + bytes(range(256)) * 5
    ping6 = ping6[:2] + struct.pack("!H", sum6(58, ping6, PEER_LL6, OUR_LL6)) + ping6[4:]
    fh = lambda off, m: struct.pack("!BBHI", 58, 0, off | m, 0x1234)
    fr1 = eth(0x86dd, ipv6(44, fh(0, 1) + ping6[:800]))
    fr2 = eth(0x86dd, ipv6(44, fh(800, 0) + ping6[800:]))
    inner = ipv6(6, struct.pack("!HHI", 80, 41002, ISN), src=OUR_LL6, dst=PEER_LL6, plen=20)
    ptb = icmp6(2, 0, struct.pack("!I", 1280) + inner[:48], hlim=64)
    ext = eth(0x86dd, ipv6(0, struct.pack("!BB", 60, 0) + b"\x01\x04\0\0\0\0" + struct.pack("!BB", 6, 0) +
                       b"\x01\x04\0\0\0\0" + tcp6(41003, 9000, 0, SYN)[54:]))
    s["ipv6-frag-ptb-ext"] = [rec(ns6), rec(fr2), rec(fr1, adv=1)] + [
        rec(tcp6(41002, 1000, 0, SYN, opts=MSS)), rec(tcp6(41002, 1001, ISN + 1, ACK)), rec(ptb), rec(ext, 0)]
    # A Packet Too Big (MTU 1280) quoting the first segment of an answer in flight (7,690 bytes of
    # css/main.css in 1440-byte segments): the connection's MSS falls and the segments are sent again
    # split (lwIP patch 0018, net/inst_hash.c); then the peer acknowledges the first piece, and all.
    css = b"GET /css/main.css HTTP/1.1\r\nHost: pollux\r\n\r\n"
    inner = ipv6(6, struct.pack("!HHIIBBHHH", 80, 41004, ISN + 1, 1001 + len(css), 0x50, ACK | PSH, 65535, 0, 0),
                 src=OUR_LL6, dst=PEER_LL6, plen=20 + 1440)
    ptb = icmp6(2, 0, struct.pack("!I", 1280) + inner, hlim=64)
    s["ipv6-ptb-inflight"] = [rec(ns6), rec(tcp6(41004, 1000, 0, SYN, opts=MSS)), rec(tcp6(41004, 1001, ISN + 1, ACK)),
                              rec(tcp6(41004, 1001, ISN + 1, ACK | PSH, css)), rec(ptb, adv=1),
                              rec(tcp6(41004, 1001 + len(css), ISN + 1 + 1220, ACK), adv=1),
                              rec(tcp6(41004, 1001 + len(css), ISN + 1 + 7000, ACK), adv=200)]
    s["ipv6-steer"] = ipv6_steer()
    # SACK (lwIP patch 0009): offered in the SYN, then duplicate ACKs of the answer with a block in
    # it (three: a fast recovery), a D-SACK, blocks beyond it and wrapping, and a malformed option.
    def sack(*lr):
        return b"\x01\x01\x05" + bytes([2 + 4 * len(lr)]) + b"".join(struct.pack("!I", v) for v in lr)
    sp = 40005
    syn = [rec(arp()), rec(tcp(sp, 1000, 0, SYN, opts=MSS + b"\x01\x01\x04\x02")), rec(tcp(sp, 1001, ISN + 1, ACK))]
    una, end = ISN + 1, 1001 + len(GET)
    s["sack"] = syn + [rec(tcp(sp, 1001, una, ACK | PSH, GET))] + [
        rec(tcp(sp, end, una, ACK, opts=sack(una + 20, una + 60)), adv=1) for _ in range(3)] + [
        rec(tcp(sp, end, una, ACK, opts=sack(una - 10, una - 5, una + 60, una + 90))),
        rec(tcp(sp, end, una, ACK, opts=sack(una + 0x80000000, una + 0x80000100, una + 5000, una + 6000))),
        rec(tcp(sp, end, una, ACK, opts=b"\x01\x01\x05\x0b" + b"\0" * 8)),
        rec(tcp(sp, end, una + 60, ACK, opts=sack(una + 80, una + 90)), adv=200)]
    return s


# The steering seed (ipv6_steer): addresses net.c steers by, not the instance's own.
PEER6 = bytes.fromhex("fe800000000000000000000000000009")
OUR6 = bytes.fromhex("fe800000000000000000000000000002")


def st_ip6(nh, payload, src=PEER6, dst=OUR6, hops=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hops, src, dst) + payload


def st_sum6(proto, seg, src=PEER6, dst=OUR6):
    return csum(src + dst + struct.pack("!IxxxB", len(seg), proto) + seg)


def st_icmp6(t, code, body, src=PEER6, dst=OUR6, hops=64):
    m = struct.pack("!BBH", t, code, 0) + body
    m = m[:2] + struct.pack("!H", st_sum6(58, m, src, dst)) + m[4:]
    return eth(0x86dd, st_ip6(58, m, src, dst, hops))


def ipv6_steer():
    """What net.c steers for IPv6: a UDP datagram in fragments (the later one first, on queue 1),
    a Packet Too Big about a connection, neighbour discovery to every core and a solicitation to
    one, and header chains it drops (endless, hop-by-hop not first)."""
    u = struct.pack("!HHHH", 5000, 9999, 8 + 600, 0) + b"v" * 600
    u = u[:6] + struct.pack("!H", st_sum6(17, u)) + u[8:]
    f1 = eth(0x86dd, st_ip6(44, struct.pack("!BBHI", 17, 0, 1, 0x7777) + u[:304]))
    f2 = eth(0x86dd, st_ip6(44, struct.pack("!BBHI", 17, 0, 304, 0x7777) + u[304:]))
    quote = st_ip6(6, struct.pack("!HHIIBBHHH", 80, 40005, ISN, 1001, 0x50, ACK, 65535, 0, 0), OUR6, PEER6)
    ptb = st_icmp6(2, 0, struct.pack("!I", 1280) + quote, src=bytes.fromhex("fe800000000000000000000000000001"))
    na = st_icmp6(136, 0, struct.pack("!I16s", 0x20000000, PEER6) + b"\x02\x01" + PEER_MAC,
               dst=bytes.fromhex("ff020000000000000000000000000001"), hops=255)
    ns = st_icmp6(135, 0, struct.pack("!I16s", 0, OUR6) + b"\x01\x01" + PEER_MAC,
               dst=bytes.fromhex("ff0200000000000000000001ff000002"), hops=255)
    endless = eth(0x86dd, st_ip6(60, b"".join(struct.pack("!BB6s", 60, 0, b"\x01\x04" + b"\0" * 4) for _ in range(12))))
    late_hbh = eth(0x86dd, st_ip6(60, struct.pack("!BB6s", 0, 0, b"\x01\x04" + b"\0" * 4) +
                               struct.pack("!BB6s", 59, 0, b"\x01\x04" + b"\0" * 4)))
    return handshake(40005) + [rec(na), rec(ns), rec(f2, FIX | Q1), rec(f1, adv=1), rec(ptb, FIX | Q1), rec(endless),
                               rec(late_hbh)]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "seeds", "fuzz_rx")
    os.makedirs(out, exist_ok=True)
    for name, recs in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"".join(recs))


if __name__ == "__main__":
    main()
