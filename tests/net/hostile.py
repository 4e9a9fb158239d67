#!/usr/bin/env python3
"""Hostile-traffic tests (issue 10: nothing a peer sends takes the appliance down).

Boots the HTTP image on a multi-queue tap in a network namespace (netns.py), then runs phases,
each bounded in time: malformed frames of every layer (scapy), SYN/ACK/UDP/ICMP floods while wrk
runs (hping3, ping -f), a port scan (nmap), thousands of half-sent requests up to the per-core
connection cap, and clients that never read, these three over IPv4 and then over IPv6 (nmap -6;
their checks named "-v6"). After each phase: the console answers, every core still runs its loop,
nothing crashed, a fresh client gets 200 within a few seconds, ping answers, and the `stats`
counters of the phase's cause moved.

Malformed frames are sent one kind at a time with nothing else on the wire, so the frames that
reached the guest (rx_pkts + rx_bad) can be matched against the drop counters of their cause; a
drop no counter shows is a failure (a reset to a closed port was one until lwIP patch 0008).

IPv6 floods (hping3 has none; tests/net/flood6.py writes the frames to the tap): SYN, UDP to a closed
port and ICMPv6 echo from random sources (with ping -6 -f), each while wrk runs over IPv6 and each
moving its own counter, then valid router advertisements with random prefixes: the guest keeps
serving its first SLAAC address and holds at most LWIP_IPV6_NUM_ADDRESSES addresses.

Usage: hostile.py ARCH IMAGE CORES QUEUES [CONFIG] [v6floods]   (CONFIG: the header the image was
built with; v6floods: only the IPv6 floods; needs root and Debian's python3-scapy, hping3, nmap)
"""
import contextlib
import importlib.util
import json
import os
import random
import re
import resource
import select
import socket
import subprocess
import sys
import time

if importlib.util.find_spec("scapy") is None and sys.executable != "/usr/bin/python3" \
        and os.path.exists("/usr/bin/python3"):
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)   # Debian's python3-scapy

from netns import HOST_IP, HOST_IP6, Results, Testbed, boot, boot6, family, ns, setns, url  # noqa: E402

ARCH, IMAGE, CORES, QUEUES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
CONFIG = sys.argv[5] if len(sys.argv) > 5 else "config/default.h"      # the image's, for its limits
ONLY_V6 = "v6floods" in sys.argv[6:]    # only the IPv6 floods after the boot (a short run)
FLOOD6 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flood6.py")
TAG = f"{ARCH} {CORES}c {QUEUES}q hostile"
result = Results(TAG)
CLOSED = 9                      # a TCP/UDP port nothing listens on (the HTTP image has no UDP service)
SLACK = 3                       # frames from the host itself during a kind (ARP refresh)
FRAG_HOLD = 16                  # net/net.c: later fragments held per queue owner
# Floods: frames each hping3 --flood must send in its 3 s by its own count (50,000 to 160,000 in the
# runs seen), frames ping -f must send (it waits for each answer, up to 10 ms: 145 to 366), and the
# least the flood's own counter in the guest must move by (29,000 to 68,000 on both architectures).
FLOOD_MIN = 10000
PING_MIN = 50
FLOOD_COUNT_MIN = 1000
LIMITS = {"POLLUX_HEADER_TIMEOUT_S": 0, "POLLUX_MAX_CONNS": 0}     # read_limits(): from CONFIG


# ---- stats, console, health ----

def parse_stats(out):
    """The four parts of `stats` by column name: sums over cores, and the nic lines' key=value sums."""
    tot, nic = {}, {}
    for head, rows in re.findall(r"(core[ \t]+[^\n]*)\n((?:\d+[ \t][^\n]*\n)+)", out):
        names = head.split()
        for line in rows.splitlines():
            for k, v in zip(names, line.split()):
                if k not in ("core", "q") and re.fullmatch(r"-?\d+", v):
                    tot[k] = tot.get(k, 0) + int(v)
    for k, v in re.findall(r"\b(\w+)=(\d+)", "\n".join(re.findall(r"nic [^\n]*", out))):
        nic[k] = nic.get(k, 0) + int(v)
    tot.update({"nic." + k: v for k, v in nic.items()})
    return tot


def stats(g):
    g.send("stats")
    n = CORES
    m, out = g.expect(r"core\s+q\s+rx_pkts[^\n]*\n(?:\d+[^\n]*\n){%d}core\s+q\s+rx_bad[^\n]*\n(?:\d+[^\n]*\n){%d}"
                      r"(?:nic [^\n]*\n)+core\s+hdr_tmo[^\n]*\n(?:\d+[^\n]*\n){%d}" % (n, n, n), 30)
    if not m:
        raise RuntimeError("no answer to stats:\n" + out[-1500:])
    return parse_stats(m.group(0).decode().replace("\r", ""))


def delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in b}


RX_DROPS = ("rx_bad", "xdrops", "frag_d", "runt", "v6_bad", "refused", "ip_drop", "ip6_drp", "nd_drp", "arp_drp", "udp_drp",
            "l4_drop", "reasm",
            "csum_err",
            "tcp_mem", "mem_err")


def moved(d, names=None):
    """The counters that moved, as text."""
    keys = names or [k for k in d if not k.startswith("nic.") and k not in ("loops", "max_gap_us")]
    return " ".join(f"{k}+{d[k]}" for k in keys if d.get(k))


def tap_stats():
    j = json.loads(ns("ip", "-s", "-j", "link", "show", "tap0").stdout)[0]["stats64"]
    return {"tx": j["tx"]["packets"], "tx_drop": j["tx"]["dropped"]}


class Health:
    """The checks after each phase, against ip (via_ipv6() turns them to IPv6 for a while)."""

    def __init__(self, tb, ip, log):
        self.g, self.ip, self.log = tb.g, ip, log
        self.loops = [0] * CORES
        self.log_seen = 0

    @property
    def tag(self):
        """What the names of a phase's IPv6 twin add ("-v6", as net.py's twins)."""
        return "-v6" if ":" in self.ip else ""

    def cores(self):
        self.g.send("cores")
        m, out = self.g.expect(r"cores: (\d+) started of (\d+) in ACPI\r?\n((?:[ \t]+core [^\n]*\n){%d})" % CORES, 30)
        if not m:
            return False, "no answer to cores"
        lines = m.group(3).decode().splitlines()
        loops = [int(re.search(r"loops=(\d+)", ln).group(1)) for ln in lines]
        ok = all("running" in ln for ln in lines) and all(a > b for a, b in zip(loops, self.loops))
        self.loops = loops
        return ok, "every core running, loops moving" if ok else "cores: " + " | ".join(ln.strip() for ln in lines)

    def crashes(self):
        with open(self.log, "rb") as f:
            f.seek(self.log_seen)
            text = f.read().decode(errors="replace")
        self.log_seen += len(text.encode(errors="replace"))
        # What a crash, a panic or the watchdog print (not the boot's line naming what they do).
        bad = re.findall(r"[^\n]*(?:pollux: panic|pollux: crash|pollux: core \d+ stopped|another exception|"
                         r"stack protector|pollux: watchdog:|resetting the machine)[^\n]*", text)
        return bad

    def fresh(self):
        t0 = time.time()
        r = ns("curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", url(self.ip, "/hello"), check=False)
        return r.stdout == "200", r.stdout or "nothing", time.time() - t0

    def ping(self):
        p = ns("ping", "-c", "3", "-i", "0.2", "-W", "2", self.ip, check=False)
        m = re.search(r"(\d+) received", p.stdout)
        return bool(m) and int(m.group(1)) > 0, (m.group(1) if m else "0") + "/3 answered"

    def check(self, phase):
        ok_c, cores = self.cores()
        ok_f, code, t = self.fresh()
        ok_p, ping = self.ping()
        bad = self.crashes()
        result(ok_c and ok_f and ok_p and not bad, f"{phase}: alive",
               f"{cores}; fresh curl {code} in {t:.2f} s; ping {ping}; console "
               + ("clean" if not bad else "says: " + " / ".join(bad[:3])))


# ---- malformed frames ----

def malformed(h, tb, gmac, hmac, gip):
    from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPv6, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_RA,
                           ICMPv6NDOptPrefixInfo, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, conf,
                           fragment)
    from scapy.compat import raw
    conf.verb = 0
    s = conf.L2socket(iface="tap0")
    rnd = random.Random(10)
    E = Ether(dst=gmac, src=hmac)
    bcast = gip.rsplit(".", 1)[0] + ".255"

    def ip(**kw):
        kw.setdefault("src", HOST_IP)
        kw.setdefault("dst", gip)
        kw.setdefault("id", rnd.randrange(65536))
        return IP(**kw)

    def port():
        return rnd.randrange(20000, 60000)

    def junk(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))

    def echo():
        return ICMP(type=8, id=rnd.randrange(65536), seq=1) / Raw(b"x" * 16)

    def tcp(dport, flags, **kw):
        return TCP(sport=port(), dport=dport, flags=flags, seq=rnd.randrange(1 << 32), **kw)

    # IPv6: the guest's link-local address (EUI-64 of its MAC) and a link-local source of ours.
    m6 = bytes.fromhex(gmac.replace(":", ""))
    ll6 = "fe80::%02x%02x:%02xff:fe%02x:%02x%02x" % (m6[0] ^ 2, m6[1], m6[2], m6[3], m6[4], m6[5])
    src6 = "fe80::99"

    def ip6(**kw):
        kw.setdefault("src", src6)
        kw.setdefault("dst", ll6)
        return IPv6(**kw)

    def frag6(ident, off, m, payload, nh=17):
        return raw(E / ip6() / IPv6ExtHdrFragment(nh=nh, offset=off, m=m, id=ident) / payload)

    def frags6_incomplete():
        out = []
        for i in range(8):              # tiny first fragments, never completed
            out.append(frag6(rnd.randrange(1 << 32), 0, 1, junk(8)))
        for i in range(4):              # overlapping pieces (RFC 5722: the datagram is dropped)
            i_d = rnd.randrange(1 << 32)
            out += [frag6(i_d, 0, 1, junk(32)), frag6(i_d, 2, 1, junk(32))]
        return out

    def later_frags(n):
        return [raw(E / ip(proto=17, flags=0, frag=rnd.randrange(1, 100)) / junk(64)) for _ in range(n)]

    def incomplete():
        out = []
        for i in range(10):             # first fragments only
            out.append(raw(E / ip(proto=17, flags="MF", frag=0) / junk(64)))
        for i in range(4):              # overlapping pieces (and a teardrop), never a whole datagram
            i_d = rnd.randrange(65536)
            out += [raw(E / ip(id=i_d, proto=17, flags="MF", frag=0) / junk(32)),
                    raw(E / ip(id=i_d, proto=17, flags="MF", frag=2) / junk(32)),
                    raw(E / ip(id=i_d, proto=17, flags="MF", frag=0) / junk(32))]
        for i in range(3):              # a last fragment ending past 65535
            out.append(raw(E / ip(proto=17, flags=0, frag=8190) / junk(200)))
        i_d = rnd.randrange(65536)      # one datagram in 16 pieces of 8 bytes (lwIP queues at most 10)
        out += [raw(E / ip(id=i_d, proto=17, flags="MF", frag=k) / junk(8)) for k in range(16)]
        return out

    def whole(n):
        out = []
        for i in range(n):
            pk = E / ip(proto=17, id=rnd.randrange(65536)) / UDP(sport=port(), dport=CLOSED) / junk(2600)
            fr = [raw(f) for f in fragment(pk, fragsize=1000)]
            out += fr if i % 2 else fr[::-1]
        return out

    tcp_opts = [b"\x02\x00\x00\x00", b"\x02\xff\x05\xb4", b"\x03\x01\x00\x00", b"\x08\x0a\x00\x00",
                b"\x01" * 39 + b"\x02", b"\x05\x03\x00\x00", b"\x00\x02\x04\x05\xb4\x00\x00\x00"]
    N = 20
    # name, frames, mode, expected counters (mode drop: those counters account for every frame that
    # arrived; answer: each frame answered; count: at least the given count)
    kinds = [
        ("runt-eth", [raw(Ether(dst=gmac, src=hmac, type=0x0800))] * N, "drop", ("arp_drp",)),
        ("runt-ip", [raw(E / ip() / echo())[:14 + 1 + i % 19] for i in range(N)], "drop", ("ip_drop",)),
        ("runt-arp-bad", [raw(Ether(dst="ff:ff:ff:ff:ff:ff", src=hmac, type=0x0806)) + junk(8) for _ in range(N)],
         "drop", ("runt",)),
        ("runt-arp", [raw(Ether(dst="ff:ff:ff:ff:ff:ff", src=hmac) / ARP(op=1, psrc=HOST_IP, pdst=gip))[:14 + 8]
                      for _ in range(N)], "drop", ("runt",)),
        ("giant", [raw(E / ip() / UDP(sport=port(), dport=CLOSED) / junk(n)) for n in (1500, 1900, 2100, 8900) * 4],
         "drop", ("l4_drop", "xdrops"), 8),
        ("vlan", [raw(E / Dot1Q(vlan=1 + i) / ip() / echo()) for i in range(N)], "drop", ("arp_drp",)),
        ("ipv6-not-ours", [raw(E / IPv6(src="fe80::1", dst="fe80::2") / (ICMPv6EchoRequest() if i % 2 else tcp(80, "S")))
                           for i in range(N)], "drop", ("ip6_drp",)),
        ("ip6-plen-long", [raw(E / ip6(plen=100 + 40 * i) / ICMPv6EchoRequest()) for i in range(N)],
         "drop", ("ip6_drp", "v6_bad")),
        ("ip6-plen-short", [raw(E / ip6(plen=i % 8) / tcp(80, "S")) for i in range(N)],
         "drop", ("ip6_drp", "l4_drop", "v6_bad")),
        ("ip6-ext-endless", [raw(E / ip6() / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) / IPv6ExtHdrDestOpt() /
                                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / tcp(80, "S"))
                             for _ in range(N)], "drop", ("v6_bad",)),
        ("ip6-hbh-late", [raw(E / ip6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / tcp(80, "S")) for _ in range(N)],
         "drop", ("v6_bad", "ip6_drp")),
        ("ip6-nh-unknown", [raw(E / ip6(nh=(253, 41, 132, 47)[i % 4]) / junk(40)) for i in range(N)],
         "drop", ("ip6_drp",)),
        ("ip6-icmp-csum", [raw(E / ip6() / ICMPv6EchoRequest(cksum=0x3333 + i, data=b"x" * 8)) for i in range(N)],
         "drop", ("csum_err",)),
        ("ip6-tcp-csum", [raw(E / ip6() / tcp(80, "S", chksum=0x4444 + i)) for i in range(N)], "drop", ("csum_err",)),
        ("ip6-frag-incomplete", frags6_incomplete(), "drop", ("reasm", "frag_d", "ip6_drp")),
        ("nd-ra-offlink", [raw(E / ip6(dst="ff02::1", hlim=(64, 255)[i % 2], src=("fe80::1", "fd00:198:18::77")[i % 2]) /
                               ICMPv6ND_RA() / ICMPv6NDOptPrefixInfo(prefix="2001:db8:%x::" % i, prefixlen=64))
                           for i in range(N)], "drop", ("nd_drp",)),
        ("nd-na-spoof", [raw(E / ip6(dst="ff02::1", hlim=64) / ICMPv6ND_NA(tgt="fe80::%x" % (i + 1), R=0, S=0, O=1))
                         for i in range(N)], "drop", ("nd_drp",)),
        ("ethertype", [raw(Ether(dst=gmac, src=hmac, type=rnd.choice((0x0801, 0x0805, 0x8035, 0x88cc, 0x9000,
                                                                      0xffff, 0x0600, 0x05dc)))) + junk(46)
                       for _ in range(N)], "drop", ("arp_drp",)),
        ("random-bytes", [bytes.fromhex(gmac.replace(":", "")) + junk(rnd.randrange(8, 1500)) for _ in range(N)],
         "drop", RX_DROPS),
        ("random-ipv4", [raw(Ether(dst=gmac, src=hmac, type=0x0800)) + junk(rnd.randrange(20, 1480))
                         for _ in range(N)], "drop", ("ip_drop",)),
        ("ip-version", [raw(E / ip(version=v) / echo()) for v in (0, 5, 6, 15) * 5], "drop", ("ip_drop",)),
        ("ip-ihl-short", [raw(E / ip(ihl=i % 5) / echo()) for i in range(N)], "drop", ("ip_drop",)),
        ("ip-ihl-long", [raw(E / ip(ihl=15) / ICMP(type=8)) for _ in range(N)], "drop", ("ip_drop",)),
        ("ip-len-long", [raw(E / ip(len=60 + i * 70) / echo()) for i in range(N)], "drop", ("ip_drop",)),
        ("ip-len-short", [raw(E / ip(len=i % 20) / echo()) for i in range(N)], "drop", ("ip_drop",)),
        ("ip-csum", [raw(E / ip(chksum=0x1234 + i) / echo()) for i in range(N)], "drop", ("csum_err",)),
        ("ip-not-ours", [raw(E / ip(dst="198.18.0.%d" % (200 + i)) / echo()) for i in range(N)], "drop", ("ip_drop",)),
        ("ip-src-bcast", [raw(E / ip(src=("255.255.255.255", "224.0.0.1", bcast)[i % 3]) / echo())
                          for i in range(N)], "drop", ("ip_drop",)),
        ("ip-proto", [raw(E / ip(proto=(253, 41, 132, 47)[i % 4]) / junk(40)) for i in range(N)], "drop", ("ip_drop",)),
        ("ip-options", [raw(E / ip(options=[Raw(o)]) / tcp(CLOSED, "S"))
                        for o in (b"\x44\x00\x00\x00", b"\x83\xff\x00\x00", b"\x07\x27" + b"\x00" * 2,
                                  b"\x01\x01\x01\x00", b"\x94\x04\x00\x00") * 4], "drop", ("l4_drop",)),
        ("tcp-short", [raw(E / ip(proto=6) / junk(i % 20)) for i in range(N)], "drop", ("l4_drop",)),
        ("tcp-doff-short", [raw(E / ip() / tcp(80, "S", dataofs=i % 5)) for i in range(N)], "drop", ("l4_drop",)),
        ("tcp-doff-long", [raw(E / ip() / tcp(80, "S", dataofs=6 + i % 10)) for i in range(N)], "drop", ("l4_drop",)),
        ("tcp-csum", [raw(E / ip() / tcp(80, "S", chksum=0x4321 + i)) for i in range(N)], "drop", ("csum_err",)),
        ("tcp-closed-flags", [raw(E / ip() / tcp(CLOSED, f))
                              for f in ("S", "", "FPU", "SF", "A", "F", "SA", "PA", "U", "FA") * 2],
         "drop", ("l4_drop",)),
        ("tcp-closed-rst", [raw(E / ip() / tcp(CLOSED, "R")) for _ in range(N)], "drop", ("l4_drop",)),
        ("tcp-listen-odd", [raw(E / ip() / tcp(80, f)) for f in ("", "F", "FPU", "U", "P", "R", "RF", "RP", "E", "C")
                            * 2], "drop", ("l4_drop",)),
        ("tcp-listen-ack", [raw(E / ip() / tcp(80, "A", ack=rnd.randrange(1 << 32))) for _ in range(N)], "answer", ()),
        ("tcp-bad-options", [raw(E / ip() / TCP(sport=port(), dport=80, flags="S", seq=rnd.randrange(1 << 32),
                                                dataofs=5 + (len(o) + 3) // 4) / Raw(o + b"\x00" * (-len(o) % 4)))
                             for o in tcp_opts * 3][:N], "answer", ()),
        ("tcp-syn-data", [raw(E / ip() / tcp(80, "S") / junk(1000)) for _ in range(N)], "answer", ()),
        ("udp-short", [raw(E / ip(proto=17) / junk(i % 8)) for i in range(N)], "drop", ("l4_drop",)),
        ("udp-len-lie", [raw(E / ip() / UDP(sport=port(), dport=CLOSED, len=(3, 1000, 65535, 0)[i % 4]) / junk(10))
                         for i in range(N)], "drop", ("l4_drop",)),
        ("udp-csum", [raw(E / ip() / UDP(sport=port(), dport=CLOSED, chksum=0x1111 + i) / junk(10)) for i in range(N)],
         "drop", ("csum_err",)),
        ("udp-closed", [raw(E / ip() / UDP(sport=port(), dport=CLOSED) / junk(10)) for i in range(N)],
         "drop", ("l4_drop",)),
        ("udp-bcast", [raw(E / ip(dst=bcast) / UDP(sport=port(), dport=CLOSED) / junk(10)) for i in range(N)],
         "drop", ("l4_drop",)),
        ("icmp-short", [raw(E / ip(proto=1) / Raw((b"\x08", b"\x08\x00", b"\x08\x00\xf7\xff", b"\x08\x00\xf7\xff\x00")
                                                 [i % 4])) for i in range(N)], "drop", ("l4_drop",)),
        ("icmp-csum", [raw(E / ip() / ICMP(type=8, chksum=0x2222 + i) / Raw(b"x" * 8)) for i in range(N)],
         "drop", ("csum_err",)),
        ("icmp-type", [raw(E / ip() / ICMP(type=t) / junk(20)) for t in (42, 13, 17, 255, 9, 10, 5, 40, 1, 2) * 2],
         "drop", ("l4_drop",)),
        ("icmp-errors", [raw(E / ip() / ICMP(type=(3, 11, 12, 4)[i % 4], code=i % 5) /
                             Raw(raw(IP(src=gip, dst=HOST_IP, ihl=5 + i % 11) / TCP(sport=80, dport=port()))[:8 + 4 * i]
                                 if i % 3 else junk(i))) for i in range(N)], "drop", ("l4_drop",)),
        ("icmp-bcast-echo", [raw(E / ip(dst=bcast) / echo()) for _ in range(N)], "drop", ("l4_drop",)),
        ("icmp-reply", [raw(E / ip() / ICMP(type=0, id=i) / Raw(b"y" * 8)) for i in range(N)], "drop", ("l4_drop",)),
        ("frag-whole", whole(10), "count", {"l4_drop": 10}),
        ("frag-incomplete", incomplete(), "drop", ("ip_drop", "frag_d", "reasm")),
        ("frag-later", later_frags(60), "count", {"frag_d": 60 - 2 * FRAG_HOLD}),
    ]
    total = {"frames": 0, "arrived": 0}
    t0 = time.time()
    before = stats(h.g)
    for name, frames, mode, want, *reach in kinds:
        tap0 = tap_stats()
        if name == "giant":
            ns("ip", "link", "set", "tap0", "mtu", "9000")
        for f in frames:
            s.send(f)
        if name == "giant":
            ns("ip", "link", "set", "tap0", "mtu", "1500")
        sent = len(frames)
        reach = reach[0] if reach else sent
        # Datagrams that never complete are given up after IP_REASS_MAXAGE and IPV6_REASS_MAXAGE
        # (3 s, lwipopts.h).
        time.sleep(4 if name.endswith("frag-incomplete") else 0.3)
        for _ in range(6):
            after = stats(h.g)
            d = delta(before, after)
            arrived = d.get("rx_pkts", 0) + d.get("rx_bad", 0)
            tapd = tap_stats()
            lost = tapd["tx_drop"] - tap0["tx_drop"]
            if arrived >= reach - lost:
                break
            time.sleep(0.3)
        total["frames"] += sent
        total["arrived"] += arrived
        what = f"{sent} sent, {arrived} reached the guest" + (f", {lost} dropped by the host's tap" if lost else "")
        if reach < sent:
            what += f" ({sent - reach} longer than the {2048 - 12}-byte receive buffer are dropped by the device)"
        if mode == "drop":
            counted = sum(d.get(k, 0) for k in want)
            ok = counted >= arrived - SLACK and arrived >= reach - lost
            detail = f"{what}; counted {moved(d, RX_DROPS) or 'nothing'} (tx+{d.get('tx_pkts', 0)})"
            result(ok, f"malformed {name}", detail + f" (expected under {'/'.join(want)})")
        elif mode == "answer":
            ok = d.get("tx_pkts", 0) >= sent - lost - SLACK
            result(ok, f"malformed {name}", f"{what}; answered: tx+{d.get('tx_pkts', 0)}; drops: "
                   f"{moved(d, RX_DROPS) or 'none'}")
        else:
            ok = all(d.get(k, 0) >= v for k, v in want.items())
            result(ok, f"malformed {name}", f"{what}; counted {moved(d, RX_DROPS) or 'nothing'} "
                   f"(expected at least {want})")
        before = after
    s.close()
    r = ns("ping", "-c", "3", "-i", "0.3", "-W", "3", "-s", "4000", gip, check=False)
    m = re.search(r"(\d+) received", r.stdout)
    result(bool(m) and int(m.group(1)) == 3, "malformed frag-ping",
           f"ping -s 4000 (fragmented both ways) answered {m.group(1) if m else 0}/3")
    print(f"phase malformed: {len(kinds)} kinds, {total['frames']} frames sent, {total['arrived']} reached the guest, "
          f"{time.time() - t0:.1f} s", flush=True)


# ---- floods while wrk runs ----

def wrk_parse(out):
    """wrk's requests, its socket errors (connect, read, write, timeout: their sum) and non-2xx/3xx."""
    m = re.search(r"(\d+) requests in", out)
    err = re.search(r"Socket errors: (.*)", out)
    non2 = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = sum(int(n) for n in re.findall(r"\d+", err.group(1))) if err else 0
    return (int(m.group(1)) if m else 0), errs, (err.group(1) if err else "none"), (int(non2.group(1)) if non2 else 0)


def sent_by(out):
    """(transmitted, received) from hping3's or ping's closing statistics, (0, 0) without them."""
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def flood(h, tb, name, cmds, secs, check):
    """Run each flood command for secs while wrk runs. The verdict: every flood tool sent at least
    its floor (FLOOD_MIN, PING_MIN for ping -f) by its own count; check(d, sent, lost, tools) on the
    counter only this flood moves; wrk served with no socket error and no non-2xx answer."""
    t0 = time.time()
    before, tap0 = stats(h.g), tap_stats()
    wrk = tb.spawn("wrk", "-t2", "-c16", f"-d{secs + 2}s", "--timeout", "5s", url(h.ip),
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1)
    fl = [tb.spawn("timeout", "-s", "INT", str(secs), *c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
          for c in cmds]
    outs = [p.communicate(timeout=secs + 20)[0] for p in fl]
    wout = wrk.communicate(timeout=secs + 30)[0]
    after, tap1 = stats(h.g), tap_stats()
    d = delta(before, after)
    tools = [(c[0], *sent_by(o)) for c, o in zip(cmds, outs)]
    sent = sum(t[1] for t in tools)
    lost = tap1["tx_drop"] - tap0["tx_drop"]
    reqs, errs, errs_text, non2 = wrk_parse(wout)
    arrived = d.get("rx_pkts", 0) + d.get("rx_bad", 0)
    short = [f"{tool} sent {n}, under its floor of {PING_MIN if tool == 'ping' else FLOOD_MIN}"
             for tool, n, _ in tools if n < (PING_MIN if tool == "ping" else FLOOD_MIN)]
    detail = (f"{secs} s: {sent} frames sent ({sent / secs:.0f}/s: "
              + ", ".join(f"{tool} {n}" + (f" with {r} answers" if tool == "ping" else "") for tool, n, r in tools)
              + f"), {lost} dropped by the host's tap, {arrived} reached the guest, tx+{d.get('tx_pkts', 0)}; "
              f"counted {moved(d, RX_DROPS) or 'no drops'}; limits "
              f"{moved(d, ('hdr_tmo', 'idle_cls', 'evicted', 'prt_evct', 'cap_ref', 'syn_ckie')) or 'none'}; "
              f"wrk alongside: {reqs} requests, socket errors [{errs_text}], non-2xx {non2}")
    ok, why = check(d, sent, lost, tools)
    why = "; ".join(short + ([why] if why else []) + (["wrk had socket errors"] if errs else []))
    result(ok and not short and reqs > 0 and errs == 0 and non2 == 0, f"flood {name}",
           detail + (f" -- {why}" if why else ""))
    print(f"phase flood {name}: {time.time() - t0:.1f} s", flush=True)


def flood_count(d, key, sent, lost):
    """(ok, why): counter key moved by at least FLOOD_COUNT_MIN and half the frames the tap delivered."""
    need = max(FLOOD_COUNT_MIN, (sent - lost) // 2)
    return d.get(key, 0) >= need, f"{key}+{d.get(key, 0)} of {sent - lost} delivered (at least {need})"


# ---- IPv6 floods ----

class GuestFrames:
    """The IPv6 frames the guest sends on ifname, read in a thread until close(): how many of each
    kind (ICMPv6 by type, else the next header), and the targets of duplicate address detection."""

    def __init__(self, ifname):
        import threading
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.s.bind((ifname, 0x86dd))
        self.kinds, self.dad, self.stop = {}, set(), False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            if not select.select([self.s], [], [], 0.2)[0]:
                continue
            f, addr = self.s.recvfrom(2048)
            if addr[2] == 4 or len(f) < 55:         # PACKET_OUTGOING: the host's own
                continue
            nh = f[20]
            k = f"icmp6-{f[54]}" if nh == 58 else f"nh{nh}"
            self.kinds[k] = self.kinds.get(k, 0) + 1
            if nh == 58 and f[54] == 135 and f[22:38] == bytes(16) and len(f) >= 78:
                self.dad.add(socket.inet_ntop(socket.AF_INET6, f[62:78]))

    def close(self):
        if not self.stop:
            self.stop = True
            self.t.join()
            self.s.close()


def addr_blocks(text):
    """The address sets core 0 printed (runs of `pollux: ip6=` lines), each as a list."""
    return [re.findall(r"pollux: ip6=(\S+)", b) for b in re.findall(r"(?:pollux: ip6=\S+\r?\n)+", text)]


def host_ipv6(on):
    """The host's IPv6 on tap0: off (no neighbour discovery or MLD frames of its own) while IPv4
    phases count what reaches the guest; on, with its address and no DAD, for the IPv6 phases."""
    if not on:
        ns("sysctl", "-qw", "net.ipv6.conf.tap0.disable_ipv6=1", check=False)
        return
    ns("sysctl", "-qw", "net.ipv6.conf.tap0.accept_dad=0", "net.ipv6.conf.tap0.disable_ipv6=0", check=False)
    ns("ip", "-6", "addr", "add", f"{HOST_IP6}/64", "dev", "tap0", "nodad", check=False)
    time.sleep(1)


@contextlib.contextmanager
def via_ipv6(h, ip6):
    """The phases inside run over IPv6: the host's IPv6 on, h's checks against ip6."""
    ip = h.ip
    host_ipv6(True)
    h.ip = ip6
    try:
        yield
    finally:
        h.ip = ip
        host_ipv6(False)


def ipv6_floods(h6, tb, gmac, hmac, ip6, log):
    """Each IPv6 flood while wrk runs over IPv6 (within via_ipv6(h6, ip6)). The host's own neighbour
    discovery and MLD frames are few (SLACK-sized) beside the floods' thousands, and each check asks
    only half of what the tap delivered."""
    t0 = time.time()
    h6.check("ipv6 baseline")
    f6 = ["/usr/bin/python3", FLOOD6, "tap0", gmac, hmac, ip6]
    flood(h6, tb, "syn6", [f6 + ["syn"]], 3, lambda d, sent, lost, tools: flood_count(d, "syn_ckie", sent, lost))
    h6.check("flood syn6")
    flood(h6, tb, "udp6", [f6 + ["udp"]], 3, lambda d, sent, lost, tools: flood_count(d, "l4_drop", sent, lost))
    h6.check("flood udp6")
    flood(h6, tb, "icmp6", [f6 + ["echo"], ["ping", "-6", "-f", "-q", ip6]], 3,
          lambda d, sent, lost, tools: flood_count(d, "echo", sent, lost))
    h6.check("flood icmp6")
    # Valid router advertisements, each from another router with another prefix: every core takes
    # each (rx_pkts counts it once per core); the address tables stay bounded and the first SLAAC
    # address keeps serving.
    seen = os.path.getsize(log)
    cap = GuestFrames("tap0")

    def ra(d, sent, lost, tools):
        cap.close()
        dad = sorted(cap.dad)
        out = " ".join(f"{k}:{v}" for k, v in sorted(cap.kinds.items()))
        with open(log, "rb") as f:
            f.seek(seen)
            blocks = addr_blocks(f.read().decode(errors="replace"))
        most = max((len(b) for b in blocks), default=0)
        new = sorted({a for b in blocks for a in b if not a.startswith(("fe80:", "fd00:198:18:"))})
        need = max(FLOOD_COUNT_MIN, (sent - lost) // 2)
        # Each core's instance has one free address slot (LWIP_IPV6_NUM_ADDRESSES 3: link-local,
        # the SLAAC one, one more): the flood's prefixes give at most one tentative address a core,
        # each announced by its duplicate address detection (a solicitation from ::). Half the
        # advertisements come from new routers, which the full router list refuses on every core:
        # counted in nd_drp, and answered with nothing (patch 0016; before it, the guest sent more
        # neighbour solicitations than it received advertisements).
        ns = cap.kinds.get("icmp6-135", 0)
        ok = d.get("rx_pkts", 0) >= need and most <= 3 and all(ip6 in b for b in blocks) \
            and 1 <= len(dad) <= CORES and d.get("nd_drp", 0) >= need and ns * 20 <= sent - lost
        return ok, (f"rx_pkts+{d.get('rx_pkts', 0)} of {sent - lost} delivered (at least {need}); "
                    f"duplicate address detection for {len(dad)} addresses {dad[:4]} (1 to {CORES}: one free slot "
                    f"a core); the guest sent meanwhile (IPv6 next header or ICMPv6 type: frames) {out}, "
                    f"{ns} neighbour solicitations (at most one for 20 delivered); nd_drp+"
                    f"{d.get('nd_drp', 0)} (at least {need}); {len(blocks)} address sets printed meanwhile, the largest of {most} "
                    f"(at most 3), each with {ip6}; addresses from the flood's prefixes: {new[:3]}"
                    + (" ..." if len(new) > 3 else ""))
    flood(h6, tb, "ra6", [f6 + ["ra"]], 3, ra)
    h6.check("flood ra6")
    r = ns("curl", "-6", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", url(ip6, "/hello"), check=False)
    result(r.stdout == "200", "ra6 first-address", f"after the router advertisement flood, curl -6 to the first "
           f"SLAAC address {ip6}: {r.stdout or 'nothing'}")
    print(f"phase ipv6 floods: {time.time() - t0:.1f} s", flush=True)


# ---- port scan ----

def port_scan(h):
    t0 = time.time()
    before = stats(h.g)
    r = ns("timeout", "60", "nmap", *(["-6"] if h.tag else []), "-n", "-Pn", "-sS", "-O", "--max-os-tries", "1",
           "-T4", "--max-retries", "1", "-p", "1-1000", h.ip, check=False)
    d = delta(before, stats(h.g))
    closed = re.search(r"Not shown: (\d+) closed", r.stdout)
    opened = re.findall(r"^(\d+)/tcp\s+open", r.stdout, re.M)
    osl = re.search(r"(Aggressive OS guesses|OS details|No exact OS matches|Too many fingerprints)[^\n]*", r.stdout)
    ok = opened == ["80"] and closed and d.get("l4_drop", 0) >= int(closed.group(1))
    result(bool(ok), "port-scan" + h.tag,
           f"nmap{' -6' if h.tag else ''} -sS -O, 1000 ports, in {time.time() - t0:.1f} s: open {opened}, "
           f"closed {closed.group(1) if closed else '?'}; counted {moved(d, RX_DROPS) or 'nothing'}, "
           f"tx+{d.get('tx_pkts', 0)}; {osl.group(0)[:80] if osl else 'no OS result'}")


# ---- half-sent requests ----

def poll_of(socks, ev):
    p = select.poll()
    for fd in socks:
        p.register(fd, ev)
    return p


def half_sent(h, n):
    t0 = time.time()
    before = stats(h.g)
    socks, refused = [], 0
    part = b"GET / HTTP/1.1\r\nHost: h\r\nX-Slow: "
    for b in range(0, n, 100):
        batch = []
        for _ in range(min(100, n - b)):
            s = socket.socket(family(h.ip), socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((h.ip, 80))
            batch.append(s)
        pending, end = {s.fileno(): s for s in batch}, time.time() + 5
        while pending and time.time() < end:
            for fd, _ in poll_of(pending, select.POLLOUT).poll(500):
                s = pending.pop(fd)
                try:
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        s.send(part)
                        socks.append(s)
                        continue
                except OSError:
                    pass
                refused += 1
                s.close()
        for s in pending.values():
            refused += 1
            s.close()
    t_sent = time.time()
    mid = stats(h.g)
    dm = delta(before, mid)
    held = len(socks)
    cap = LIMITS["POLLUX_MAX_CONNS"] * CORES
    print(f"half-sent{h.tag}: {n} connections opened in {t_sent - t0:.1f} s, {held} sent half a request, "
          f"{refused} refused or unanswered; then "
          f"{moved(dm, ('tcp_acc', 'tcp_open', 'tcp_rst', 'cap_ref', 'evicted', 'prt_evct', 'syn_ckie'))}",
          flush=True)
    over = n - cap
    made_way = dm.get("cap_ref", 0) + dm.get("evicted", 0) + dm.get("prt_evct", 0)
    # What the guest holds is all of this phase's family (tcp6_open counts the IPv6 ones).
    mine = mid.get("tcp6_open", 0) if h.tag else mid.get("tcp_open", 0) - mid.get("tcp6_open", 0)
    result((made_way >= over * 0.5 if over > 0 else True) and mine == mid.get("tcp_open", -1) > 0,
           "half-sent cap" + h.tag,
           f"{n} half-sent requests against a cap of {LIMITS['POLLUX_MAX_CONNS']} per core ({cap} in all): "
           f"cap_ref+{dm.get('cap_ref', 0)} evicted+{dm.get('evicted', 0)} prt_evct+{dm.get('prt_evct', 0)} "
           f"tcp_open now {mid.get('tcp_open')}, {mine} of them over IPv{6 if h.tag else 4}")
    # A fresh client: at the cap it displaces the request in progress silent the longest, so it is
    # served at once or, at the latest, once the header limit frees the slots.
    first = None
    end = time.time() + LIMITS["POLLUX_HEADER_TIMEOUT_S"] + 10
    while time.time() < end:
        r = ns("curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url(h.ip, "/hello"), check=False)
        if r.stdout == "200":
            first = time.time() - t_sent
            break
        time.sleep(0.3)
    # The guest closes each half-sent request at the header limit: our sockets see EOF or a reset.
    closed, end = 0, time.time() + 5
    open_ = {s.fileno(): s for s in socks}
    while open_ and time.time() < end:
        for fd, _ in poll_of(open_, select.POLLIN).poll(500):
            del open_[fd]
            closed += 1
    after = stats(h.g)
    d = delta(mid, after)
    kept = mid.get("tcp_open", 0)      # the half-sent requests the guest held when the burst ended
    result(first is not None and first <= LIMITS["POLLUX_HEADER_TIMEOUT_S"] + 6 and d.get("hdr_tmo", 0) >= kept * 0.9
           and closed >= held * 0.9, "half-sent header-limit" + h.tag,
           f"header limit {LIMITS['POLLUX_HEADER_TIMEOUT_S']} s: the guest held {kept}, hdr_tmo+{d.get('hdr_tmo', 0)}; "
           f"{closed} of {held} client sockets closed by the guest within 5 s after; a fresh client served "
           + (f"{first:.1f} s after the burst" if first is not None else "never"))
    for s in socks:
        s.close()
    print(f"phase half-sent{h.tag}: {time.time() - t0:.1f} s", flush=True)


# ---- clients that never read ----

def never_read(h, n, secs):
    t0 = time.time()
    before = stats(h.g)
    req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 256
    socks, sent = [], 0
    for _ in range(n):
        s = socket.socket(family(h.ip), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        try:
            s.connect((h.ip, 80))
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
    end = time.time() + secs
    while time.time() < end:
        moved_ = 0
        for s in socks:
            try:
                moved_ += s.send(req)
            except (BlockingIOError, ConnectionError):
                pass
        sent += moved_
        if not moved_:
            time.sleep(0.3)
    mid = stats(h.g)
    ok_f, code, t = h.fresh()
    result(ok_f, "never-read fresh client" + h.tag, f"{len(socks)} clients wrote {sent} bytes of pipelined requests in "
           f"{secs} s and read nothing; meanwhile a fresh curl got {code} in {t:.2f} s; held input now "
           f"{mid.get('held_kb')} KiB, {moved(delta(before, mid), ('held_rs', 'tcp_abt', 'tcp_rst', 'http_req'))}")
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    # Their resets are only accepted at the exact sequence number while the guest's window is shut
    # (held input), so a connection whose client lost in-flight data lingers until lwIP's persist
    # probe draws a fresh reset: wait for that, bounded.
    t_rst, end = time.time(), time.time() + 20
    while True:
        time.sleep(1)
        after = stats(h.g)
        if (after.get("held_kb", 1) == 0 and after.get("tcp_open", 1) <= 2) or time.time() > end:
            break
    result(after.get("held_kb", 1) == 0 and after.get("tcp_open", 1) <= 2, "never-read gone" + h.tag,
           f"{time.time() - t_rst:.1f} s after they reset: held_kb {after.get('held_kb')}, tcp_open "
           f"{after.get('tcp_open')}; over the phase "
           f"{moved(delta(before, after), ('tcp_acc', 'tcp_rst', 'held_rs', 'tcp_abt', 'http_req'))}")
    print(f"phase never-read{h.tag}: {time.time() - t0:.1f} s", flush=True)


def client_phases(h):
    """The port scan, half-sent requests past the cap and clients that never read, over h's family."""
    port_scan(h)
    h.check("port-scan" + h.tag)
    half_sent(h, max(2000, LIMITS["POLLUX_MAX_CONNS"] * CORES + 1000))
    h.check("half-sent" + h.tag)
    never_read(h, 100, 5)
    h.check("never-read" + h.tag)


def read_limits():
    """The limits the image was built with: config/default.h, then the image's config header."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    for path in (os.path.join(top, "config", "default.h"), os.path.join(top, CONFIG)):
        for k, v in re.findall(r"^#define (POLLUX_\w+) (\d+)", open(path).read(), re.M):
            if k in LIMITS:
                LIMITS[k] = int(v)


def main():
    read_limits()
    resource.setrlimit(resource.RLIMIT_NOFILE, (16384, 16384))
    t_start = time.time()
    log = os.path.join(os.path.dirname(IMAGE), f"hostile-{ARCH}-{CORES}c-{QUEUES}q.log")
    # Router advertisements naming the namespace the default router: replies to the IPv6 floods'
    # off-link sources leave through it (the host drops them).
    with Testbed(ARCH, IMAGE, CORES, QUEUES, log, router_lifetime=600) as tb:
        ip = boot(tb, result)
        if not ip:
            return
        ip6 = boot6(tb, result)
        t_boot = time.time() - t_start
        setns()
        host_ipv6(False)
        h = Health(tb, ip, log)
        r = ns("ping", "-c", "3", "-i", "0.2", "-W", "3", ip, check=False)
        result(r.returncode == 0, "ping", "ARP resolves and ICMP echo answers before the hostile phases")
        with open(log, "rb") as f:
            gmac = re.search(rb"vnet0: ([0-9a-f:]{17})", f.read()).group(1).decode()
        hmac = json.loads(ns("ip", "-j", "link", "show", "tap0").stdout)[0]["address"]
        h.check("baseline")
        first = stats(tb.g)
        if ONLY_V6:
            if ip6:
                with via_ipv6(h, ip6):
                    ipv6_floods(h, tb, gmac, hmac, ip6, log)
            return

        malformed(h, tb, gmac, hmac, ip)
        h.check("malformed")

        hp = ["hping3", "-q", "--flood", "--rand-source"]
        flood(h, tb, "syn", [hp + ["-S", "-p", "80", ip]], 3,
              lambda d, sent, lost, tools: flood_count(d, "syn_ckie", sent, lost))
        h.check("flood syn")
        # Random ACKs right after the SYN flood, while cookies are checked: each is checked and
        # refused. Connections made from cookies in this phase are wrk's (its reconnections meet a
        # backlog the SYN flood left full), at most one per cookie sent.
        def ack(d, sent, lost, tools):
            ok, why = flood_count(d, "ckie_bad", sent, lost)
            return (ok and d.get("ckie_ok", 0) <= d.get("syn_ckie", 0),
                    why + f", ckie_ok+{d.get('ckie_ok', 0)} for syn_ckie+{d.get('syn_ckie', 0)}")
        flood(h, tb, "ack", [hp + ["-A", "-p", "80", ip]], 3, ack)
        h.check("flood ack")
        # UDP to a closed port: dropped and counted (l4_drop); wrk's TCP never moves l4_drop.
        flood(h, tb, "udp", [hp + ["--udp", "-p", str(CLOSED), ip]], 3,
              lambda d, sent, lost, tools: flood_count(d, "l4_drop", sent, lost))
        h.check("flood udp")
        # Echo requests from random sources and ping -f from the host: each answered (echo; a
        # source the guest cannot answer, broadcast or multicast, is an ip_drop).
        flood(h, tb, "icmp", [hp + ["--icmp", ip], ["ping", "-f", "-q", ip]], 3,
              lambda d, sent, lost, tools: flood_count(d, "echo", sent, lost))
        h.check("flood icmp")
        client_phases(h)
        if ip6:
            with via_ipv6(h, ip6):      # the IPv6 floods, then the twins of the phases above
                ipv6_floods(h, tb, gmac, hmac, ip6, log)
                client_phases(h)

        last = stats(tb.g)
        d = delta(first, last)
        dev = {k: d.get("nic." + k, 0) for k in ("bad_used", "bad_idx", "resets", "needs_reset", "broken_rings")}
        result(not any(dev.values()), "device", f"no device error or reset over the whole test: {dev}")
        print(f"hostile totals: {moved(d)}", flush=True)
        print(f"hostile: boot {t_boot:.0f} s, whole test {time.time() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
    sys.exit(result.summary("hostile"))
