#!/usr/bin/env python3
"""IPv6 path-MTU discovery through a real router (issue 16): ping6 and a Packet Too Big from a
namespace router lowering the path MTU; the connection's segments shrink to fit it.

The test's namespace (netns.py) is the router: tap0 (fd00:198:18::1/64, dnsmasq's advertisements
name it the default router) faces the guest, a veth of MTU 1280 (fd00:198:19::1/64) leads to a
second namespace holding the client (fd00:198:19::2/64), and IPv6 forwarding is on. The client's
route advertises an MSS of 1440 (advmss), as a client on a 1500-byte link behind the narrow one
would, so the guest starts with 1500-byte packets; the router's kernel answers the first ones that
do not fit the 1280 link with ICMPv6 Packet Too Big (MTU 1280). Checked, from a capture of tap0
(AF_PACKET, both directions) and the client's sockets:
- the guest sent packets over 1280 bytes first and the router sent it Packet Too Big naming 1280;
- 150 pipelined GETs on one connection (about 140 KB of answers, a long response after the Packet
  Too Big) arrive byte for byte as the site's files are on disk, with no reset and no stall, and
  so do 150 more on a second connection the client opened before the Packet Too Big and used only
  after it (on the same core, its segments shrink with no Packet Too Big of its own: lwIP patch
  0018's check of the destination's path MTU; on the other core, which keeps its own destination
  cache, after one);
- once the guest has taken a connection's Packet Too Big, the connection's segments fit the path:
  no TCP packet the guest sends the client after the first Packet Too Big is an IPv6 fragment, and
  the only ones over 1280 bytes are those already on the wire when it arrived: whole segments of
  the old size that precede the connection's first retransmission after it (the data the router
  dropped, sent again at once and split: lwIP patch 0018's tcp_mss_lower; net/inst_hash.c);
- ping6 -s 1400 from the client is answered, the guest's replies arriving as IPv6 fragments of at
  most 1280 bytes (ICMPv6 is not TCP: lwIP patches 0011 and 0014).
Addresses: 198.18.0.0/15 and the ULA /64s above; nothing leaves the namespaces, which are deleted,
with every process started, on exit (also on SIGINT, SIGTERM, SIGHUP).

Usage: ptb6.py ARCH IMAGE CORES QUEUES   (the HTTP test image: its site is the repository's site/)
"""
import os
import re
import select
import socket
import struct
import sys
import threading
import time

from netns import NS, Results, Testbed, boot, boot6, sh, setns

ARCH, IMAGE, CORES, QUEUES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
TAG = f"{ARCH} {CORES}c {QUEUES}q ptb6"
result = Results(TAG)
NARROW = 1280                   # the router's link to the client, IPv6's minimum MTU
CLIENT_PREFIX = "fd00:198:19::"
ROUTER_C = CLIENT_PREFIX + "1"
CLIENT = CLIENT_PREFIX + "2"
SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "site")
PATHS = ["/", "/style.css", "/pollux.svg", "/index.html"]
FILES = {"/": "index.html", "/style.css": "style.css", "/pollux.svg": "pollux.svg", "/index.html": "index.html"}
REQUESTS = 150
ETH_P_ALL, PACKET_OUTGOING = 3, 4
SOL_PACKET, PACKET_VNET_HDR = 263, 15


class Capture:
    """Every IPv6 frame on tap0 in the router namespace, both directions, in order: (time, outgoing,
    the frame's first 200 bytes, its length, its segment size). The guest sends TCP with
    segmentation offload: one frame from QEMU's tap may hold many segments, which the kernel cuts
    only on its way out of the router. Each frame comes with its virtio-net header
    (PACKET_VNET_HDR), whose gso_size (0: one packet) is the size of the segments it holds."""

    def __init__(self, ifname):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        self.s.bind((ifname, ETH_P_ALL))
        self.frames, self.stop = [], False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            if not select.select([self.s], [], [], 0.2)[0]:
                continue
            data, addr = self.s.recvfrom(1 << 17)
            gso_type, gso_size = data[1], struct.unpack("<H", data[4:6])[0]
            data = data[10:]
            if len(data) >= 54 and data[12:14] == b"\x86\xdd":
                self.frames.append((time.time(), addr[2] == PACKET_OUTGOING, data[:200], len(data),
                                    gso_size if gso_type else 0))

    def close(self):
        self.stop = True
        self.t.join()
        self.s.close()


def ip6_text(b):
    return socket.inet_ntop(socket.AF_INET6, b)


def analyse(frames, gip6):
    """From the guest (incoming on tap0) and to it (outgoing): the Packet Too Big messages (time, MTU,
    the quoted next header, the quoted packet's client port) and the guest's packets to the client
    in order, each with its time, size, next header, and for TCP (unfragmented or a first fragment)
    its client port, sequence number and data length; fragments also say what they carry. The size
    of a frame of several segments is that of its largest segment, as it reaches the router's link."""
    ptbs, pkts = [], []
    for t, out, f, flen, gso in frames:
        ip = f[14:]
        plen, nh = struct.unpack("!HB", ip[4:7])
        src, dst = ip6_text(ip[8:24]), ip6_text(ip[24:40])
        size = 40 + plen
        if out and dst == gip6 and nh == 58 and ip[40] == 2:
            mtu = struct.unpack("!I", ip[44:48])[0]
            q = ip[48:]
            quoted_nh = q[6] if len(q) > 7 else None
            cport = struct.unpack("!H", q[42:44])[0] if quoted_nh == 6 and len(q) >= 44 else None
            ptbs.append((t, mtu, quoted_nh, cport))
            continue
        if out or src != gip6 or dst != CLIENT:
            continue
        pkt = {"t": t, "size": size, "nh": nh, "frag": nh == 44}
        l4, off = (ip[40], 48) if nh == 44 else (nh, 40)
        pkt["l4"] = l4
        first = nh != 44 or struct.unpack("!H", ip[42:44])[0] & 0xfff8 == 0
        if l4 == 6 and first and len(ip) >= off + 13:
            thl = (ip[off + 12] >> 4) * 4
            pkt["port"] = struct.unpack("!H", ip[off + 2:off + 4])[0]
            pkt["seq"] = struct.unpack("!I", ip[off + 4:off + 8])[0]
            pkt["data"] = plen - (off - 40) - thl
            if gso and pkt["data"] > gso:
                pkt["size"] -= pkt["data"] - gso
        pkts.append(pkt)
    return ptbs, pkts


def segments_after(ptbs, pkts, port):
    """A connection's (client port) segments once the guest had its Packet Too Big: the ones after
    the first that quoted it (or after the first one at all when none did: a connection of the same
    core, which shares its destination cache), split at its first retransmission after it, the first
    sign the guest took it. Returns (sent before that, sent from it on, whether any quoted it,
    seconds from the Packet Too Big to the first retransmission)."""
    own = [t for t, _, _, p in ptbs if p == port]
    t0 = own[0] if own else (ptbs[0][0] if ptbs else None)
    if t0 is None:
        return [], [], False, None
    high, on_wire, taken, t_re = None, [], [], None
    for x in pkts:
        if x.get("port") != port or "seq" not in x:
            continue
        end = (x["seq"] + x["data"]) & 0xffffffff
        rexmit = high is not None and x["data"] > 0 and ((high - end) & 0xffffffff) < 1 << 31 and end != high
        if x["t"] > t0:
            if t_re is None and rexmit:
                t_re = x["t"] - t0
            (taken if t_re is not None or not own else on_wire).append(x)
        if high is None or ((end - high) & 0xffffffff) < 1 << 31:
            high = end
    return on_wire, taken, bool(own), t_re


def counters(g):
    """`stats`' per-core columns summed over the cores (the first three tables), as {name: value}."""
    g.send("stats")
    m, out = g.expect(r"core\s+q\s+rx_pkts[^\n]*\n(?:\d+[^\n]*\n){%d}core\s+q\s+rx_bad[^\n]*\n(?:\d+[^\n]*\n){%d}"
                      % (CORES, CORES), 30)
    tot = {}
    for head, rows in re.findall(r"(core[ \t]+[^\n]*)\n((?:\d+[ \t][^\n]*\n)+)", m.group(0).decode() if m else ""):
        for line in rows.splitlines():
            for k, v in zip(head.split(), line.split()):
                if k not in ("core", "q") and re.fullmatch(r"-?\d+", v):
                    tot[k] = tot.get(k, 0) + int(v)
    return tot


def pipelined_gets(s):
    """REQUESTS pipelined GETs on the connected socket s from the client's namespace: (bodies right,
    the answers' bytes, seconds, error)."""
    want = {p: open(os.path.join(SITE, f), "rb").read() for p, f in FILES.items()}
    t0 = time.time()
    paths = [PATHS[i % len(PATHS)] for i in range(REQUESTS)]
    s.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for p in paths))
    f = s.makefile("rb")
    ok, total = 0, 0
    try:
        for p in paths:
            status = f.readline()
            hdr = {}
            total += len(status)
            while True:
                line = f.readline()
                total += len(line)
                if line in (b"\r\n", b"\n", b""):
                    break
                k, v = line.decode().split(":", 1)
                hdr[k.strip().lower()] = v.strip()
            body = f.read(int(hdr.get("content-length", "0")))
            total += len(body)
            ok += status.startswith(b"HTTP/1.1 200") and "content-encoding" not in hdr and body == want[p]
        err = None
    except (OSError, ValueError) as e:
        err = repr(e)
    s.close()
    return ok, total, time.time() - t0, err


def main():
    log = os.path.join(os.path.dirname(IMAGE), f"ptb6-{ARCH}-{CORES}c-{QUEUES}q.log")
    with Testbed(ARCH, IMAGE, CORES, QUEUES, log, router_lifetime=600) as tb:
        # The router: forwarding on, a veth of MTU 1280 to the client's namespace.
        cns = tb.netns("c")
        r = lambda *a: sh("ip", "netns", "exec", NS, *a)                # the router (the Testbed's namespace)
        c = lambda *a, **kw: sh("ip", "netns", "exec", cns, *a, **kw)     # the client
        r("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        r("ip", "link", "add", "vr", "mtu", str(NARROW), "type", "veth", "peer", "name", "vc", "mtu", str(NARROW),
          "netns", cns)
        r("ip", "-6", "addr", "add", ROUTER_C + "/64", "dev", "vr", "nodad")
        r("ip", "link", "set", "vr", "up")
        c("ip", "link", "set", "lo", "up")
        c("ip", "-6", "addr", "add", CLIENT + "/64", "dev", "vc", "nodad")
        c("ip", "link", "set", "vc", "up")
        c("ip", "-6", "route", "add", "default", "via", ROUTER_C, "dev", "vc", "advmss", "1440")
        ip = boot(tb, result)
        if not ip:
            return
        gip6 = boot6(tb, result)
        if not gip6:
            return
        setns()
        c0 = counters(tb.g)
        cap = Capture("tap0")
        setns(cns)
        # The guest's default router is the one its advertisements name: reach it from the client.
        ok6 = False
        for attempt in range(1, 6):
            p = c("ping", "-6", "-c", "2", "-i", "0.3", "-W", "3", gip6, check=False)
            if p.returncode == 0:
                ok6 = True
                break
            time.sleep(2)
        result(ok6, "routed-ping6", f"the client {CLIENT} behind the router reaches {gip6} (attempt {attempt}): "
               + (p.stdout.strip().splitlines()[-2] if p.stdout.strip() else p.stderr.strip()))
        if not ok6:
            cap.close()
            return
        # A second connection, opened now and used only after the Packet Too Big of the first.
        s2 = socket.create_connection((gip6, 80), timeout=30)
        port2 = s2.getsockname()[1]
        s1 = socket.create_connection((gip6, 80), timeout=30)
        port1 = s1.getsockname()[1]
        ok, total, secs, err = pipelined_gets(s1)
        result(ok == REQUESTS and not err, "download",
               f"{REQUESTS} pipelined GETs on one connection through the 1280 link: {ok} answered byte for byte "
               f"as the site's files ({total} bytes in {secs:.1f} s)" + (f"; {err}" if err else ""))
        ok2, total2, secs2, err2 = pipelined_gets(s2)
        result(ok2 == REQUESTS and not err2, "download-2",
               f"{REQUESTS} more on a second connection opened before the Packet Too Big: {ok2} answered byte "
               f"for byte ({total2} bytes in {secs2:.1f} s)" + (f"; {err2}" if err2 else ""))
        time.sleep(0.5)
        n_tcp = len(cap.frames)
        for attempt in range(1, 4):
            p = c("ping", "-6", "-c", "3", "-i", "0.3", "-W", "3", "-s", "1400", gip6, check=False)
            m = re.search(r"(\d+) received", p.stdout)
            if m and int(m.group(1)) == 3:
                break
        time.sleep(0.5)
        cap.close()
        setns()
        d = {k: v - c0.get(k, 0) for k, v in counters(tb.g).items() if v != c0.get(k, 0)}
        print("ptb6: the guest's counters over the checks: " + " ".join(f"{k}+{v}" for k, v in d.items()
                                                                          if k not in ("loops", "max_gap_us")),
              flush=True)
        ptbs, pkts = analyse(cap.frames[:n_tcp], gip6)
        t_ptb = ptbs[0][0] if ptbs else None
        before = [x for x in pkts if t_ptb is None or x["t"] <= t_ptb]
        big_before = [x for x in before if x["size"] > NARROW]
        mtus = sorted({m for _, m, _, _ in ptbs})
        result(bool(big_before) and bool(ptbs) and mtus == [NARROW] and all(q == 6 for _, _, q, _ in ptbs), "ptb",
               f"the guest first sent {len(big_before)} packets over {NARROW} bytes (largest "
               f"{max((x['size'] for x in before), default=0)}, carrying up to "
               f"{max((x.get('data', 0) for x in before), default=0)} bytes of data); the router sent it "
               f"{len(ptbs)} Packet Too Big naming MTU {mtus}, quoting TCP")
        # After the first Packet Too Big: no TCP fragment at all, and over 1280 bytes only what was
        # already on the wire, per connection: whole segments of the old size before its first
        # retransmission (the dropped data sent again, split, once the guest took it).
        after = [x for x in pkts if t_ptb is not None and x["t"] > t_ptb]
        tcp_frags = [x for x in after if x["frag"] and x["l4"] == 6]
        tcp_after = [x for x in after if x["l4"] == 6]
        ok_fit, parts = bool(after) and not tcp_frags, []
        for name, port in (("first", port1), ("second", port2)):
            on_wire, taken, quoted, t_re = segments_after(ptbs, pkts, port)
            late_big = [x for x in taken if x["size"] > NARROW]
            wire_big = [x for x in on_wire if x["size"] > NARROW]
            ok_fit &= not late_big and bool(taken) and (t_re is not None if quoted else not on_wire)
            parts.append(f"the {name} connection {len(on_wire) + len(taken)} segments after "
                         + (f"its Packet Too Big ({len(wire_big)} of the old size already on the wire, "
                            f"{len(on_wire) - len(wire_big)} smaller, then its first retransmission "
                            f"{t_re:.3f} s after it and {len(taken)} from it on"
                            if quoted and t_re is not None else
                            "its Packet Too Big, with no retransmission after it" if quoted else
                            f"the first one (none quoted it: its core's destination cache; {len(taken)} "
                            "segments") +
                         f", largest {max((x['size'] for x in taken), default=0)} bytes, {len(late_big)} over "
                         f"{NARROW})")
        result(ok_fit, "segments-shrink",
               f"after the first Packet Too Big the guest sent the client {len(tcp_after)} TCP packets, "
               f"{len(tcp_frags)} of them IPv6 fragments; " + "; ".join(parts))
        ping_frames = cap.frames[n_tcp:]
        from_guest = [(f[20], struct.unpack("!H", f[18:20])[0] + 40) for t, out, f, flen, gso in ping_frames
                      if not out and ip6_text(f[22:38]) == gip6 and ip6_text(f[38:54]) == CLIENT]
        replies = [n for nh, n in from_guest if nh == 44]
        whole = [n for nh, n in from_guest if nh != 44]
        got = int(m.group(1)) if m else 0
        result(got == 3 and len(replies) >= 6 and max(replies) <= NARROW, "ping6-1400",
               f"ping6 -s 1400 from the client (attempt {attempt}): {got}/3 answered, the guest's replies in "
               f"{len(replies)} fragments of at most {max(replies, default=0)} bytes; unfragmented packets to "
               f"the client {len(whole)} (largest {max(whole, default=0)})")


if __name__ == "__main__":
    main()
    sys.exit(result.summary("ptb6"))
