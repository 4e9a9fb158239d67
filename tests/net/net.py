#!/usr/bin/env python3
"""Network tests: boot Pollux (echo service) on a tap device in a network namespace this test
creates, with dnsmasq as the DHCP server, and check ARP/ping, TCP and UDP echo byte for byte,
and that every core served traffic; `prof on` before the service's tests and `prof` after them
check the loop's profile (a row per core and the total, frames on every core); the IPv6 part checks
that the NIC's multicast filter keeps out groups the guest did not join. Addresses come from
198.18.0.0/15; nothing leaves the namespace.

Usage: net.py ARCH IMAGE CORES QUEUES [echo|http] [static] [gic3] [pc] [flows=N] [igb] [dhcp6] [mgmt]
(static: the image has the static address 198.18.0.2 of config/static.h, and no DHCP server runs.
gic3: AArch64 virt with GICv3, as on Graviton, checked in QEMU's device tree.
pc: x86_64 on QEMU's i440FX/PIIX machine (-machine pc), whose ACPI tables have no MCFG, as on
some x86 EC2 instances: PCI is reached through ports 0xCF8/0xCFC. Every run checks, with the `pci`
command, that the NIC was reached that way on pc and through ECAM elsewhere.
flows=N: a short run for many vCPUs: instead of the service's full tests, N short TCP connections
(echo: one line each; http: GET /hello, closed), then every core's share and the drops.
v6only: the image serves IPv6 only (config/v6only.h): no IPv4 address is taken, every check runs
over the address the guest takes by SLAAC.
igb: QEMU's 82576 instead of virtio-net; it offers 16 queue pairs, the driver takes one per core
(QUEUES is then min(CORES, 16)) and the NIC's own RSS must place every flow on its core's queue.
dhcp6: a short run for IPv6 by DHCPv6, as EC2 assigns it: dnsmasq advertises the M flag and leases
from a range; instead of the service's full tests, the leased address (printed once every core has
it), dnsmasq's lease (the DUID-LL and IAID sent), curl -6 on the address, its Renew at T1, and no
DHCPv6 message dropped.
mgmt: a short run of config/mgmt.h's image, whose management port has its own addresses, IPv4 and
IPv6 (the tap has an address on each subnet too): instead of the service's full tests, each address
printed (the IPv6 one once every core's duplicate address detection passed), /metrics on each
(promtool check metrics accepts it, every core answers scrapes over each family, and a counter
moves from one scrape to the next), HTTP on the service's address, and the management port refused
(RST) on the service's IPv4 and IPv6 addresses, the HTTP port on both management addresses, each
refusal counted.)
"""
import os
import random
import re
import socket
import subprocess
import sys
import time

from netns import Results, Testbed, boot, boot6, console_find, family, monitor, ns, setns, url

ARCH, IMAGE, CORES, QUEUES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
SERVICE = sys.argv[5] if len(sys.argv) > 5 else "echo"
OPTS = sys.argv[6:]
STATIC = "static" in OPTS
GIC3 = "gic3" in OPTS
PC = "pc" in OPTS
FLOWS = next((int(o[6:]) for o in OPTS if o.startswith("flows=")), 0)
NIC = "igb" if "igb" in OPTS else "virtio"
V6ONLY = "v6only" in OPTS
DHCP6 = "dhcp6" in OPTS
MGMT = "mgmt" in OPTS
MGMT_IP = "198.19.0.10"         # config/mgmt.h's POLLUX_METRICS_ADDR
MGMT_IP6 = "fd00:198:19::10"    # and its POLLUX_METRICS_ADDR6
if NIC == "igb":
    QUEUES = min(CORES, 16)
PREFIX = {"virtio": "vnet", "igb": "igb"}[NIC]
TAG = f"{ARCH} {CORES}c {QUEUES}q {SERVICE}" + "".join(" " + o for o in OPTS)
result = Results(TAG)


def tcp_echo(ip, payload, timeout=30, src=None):
    s = socket.create_connection((ip, 7), timeout=timeout, source_address=src)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    return got


def echo_tests(ip, tag="", flows=64):
    """TCP and UDP echo to ip (either family); tag names the checks' family ("-v6": the IPv6 twins)."""
    rnd = random.Random(7)
    payload = bytes(rnd.getrandbits(8) for _ in range(256 * 1024))
    got = tcp_echo(ip, payload)
    result(got == payload, "tcp-echo" + tag, f"256 KiB through TCP echo came back identical ({len(got)} bytes)")
    # Many short connections: the NIC's queues spread them, so every core must serve some.
    bad = 0
    for i in range(flows):
        msg = f"flow {i} ".encode() * (i + 1)
        bad += tcp_echo(ip, msg) != msg
    result(bad == 0, "tcp-flows" + tag, f"{flows} connections echoed, {bad} wrong")
    u = socket.socket(family(ip), socket.SOCK_DGRAM)
    u.settimeout(3)
    ok = 0
    for i in range(20):
        d = bytes(rnd.getrandbits(8) for _ in range(1 + i * 70))
        u.sendto(d, (ip, 7))
        try:
            r2, _ = u.recvfrom(4096)
            ok += r2 == d
        except socket.timeout:
            pass
    result(ok == 20, "udp-echo" + tag, f"{ok} of 20 datagrams (1..1331 bytes) echoed byte for byte")


def http_get(sock_file, sock, path, keep=True):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n{'' if keep else 'Connection: close'}\r\n\r\n".encode())
    status = sock_file.readline().decode()
    headers = {}
    while True:
        line = sock_file.readline().decode().strip()
        if not line:
            break
        k, v = line.split(":", 1)
        headers[k.lower()] = v.strip()
    body = sock_file.read(int(headers.get("content-length", "0")))
    return status.split()[1] if status else "", headers, body


def http_tests(g, ip, tag="", n=3000, wrk_s=10):
    """The HTTP checks against ip (either family); tag names their checks' family, n keep-alive requests."""
    r = ns("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url(ip), check=False)
    result(r.stdout.startswith("200 "), "curl-200" + tag, f"GET / -> {r.stdout}")
    r = ns("curl", "-s", url(ip, "/hello"), check=False)
    result(r.stdout == "Hello from Pollux\n", "curl-hello" + tag, f"GET /hello body {r.stdout!r}")
    r = ns("curl", "-s", "-w", " %{http_code}", url(ip, "/no/such/path"), check=False)
    result(r.stdout.endswith(" 404"), "curl-404" + tag, f"unknown path -> {r.stdout.split()[-1] if r.stdout else '?'}")
    s = socket.create_connection((ip, 80), timeout=30)
    f = s.makefile("rb")
    bad = 0
    for i in range(n):
        st, h, body = http_get(f, s, "/hello" if i % 2 else "/")
        bad += st != "200" or len(body) != int(h.get("content-length", -1))
    s.close()
    result(bad == 0, "keepalive" + tag, f"{n} requests on one keep-alive connection, {bad} wrong")
    s = socket.create_connection((ip, 80), timeout=30)
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" * 50)
    f = s.makefile("rb")
    ok = 0
    for i in range(50):
        st = f.readline().decode().split()
        hdr = {}
        while True:
            line = f.readline().decode().strip()
            if not line:
                break
            k, v = line.split(":", 1)
            hdr[k.lower()] = v.strip()
        body = f.read(int(hdr.get("content-length", "0")))
        ok += len(st) > 1 and st[1] == "200" and body == b"Hello from Pollux\n"
    s.close()
    result(ok == 50, "pipelined" + tag, f"{ok} of 50 pipelined requests answered in order")
    s = socket.create_connection((ip, 80), timeout=10)
    s.sendall(b"GARBAGE\x01\r\n\r\n")
    resp = s.recv(4096)
    s.close()
    result(resp.startswith(b"HTTP/1.1 400"), "malformed-400" + tag, f"malformed request -> {resp[:12]!r}")
    r = ns("wrk", "-t2", "-c16", f"-d{wrk_s}s", url(ip), check=False)
    out = r.stdout
    m = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    ok = bool(m) and int(m.group(1)) > 0 and not errors and not non2xx
    result(ok, "wrk" + tag, f"wrk {wrk_s} s, 16 connections: " + (m.group(0) if m else "no result")
           + (f"; socket errors {errors.group(1)}" if errors else "; 0 socket errors")
           + (f"; non-2xx {non2xx.group(1)}" if non2xx else "; 0 non-2xx"))
    h2load_test(g, ip, tag)


def h2load_test(g, ip, tag, n=1600):
    """h2load (HTTP/1.1: Pollux speaks no HTTP/2): n requests over 8 keep-alive connections a core,
    every one answered 2xx, and every core accepted some of them. The flows' source ports are
    consecutive, and the Toeplitz hash is linear in their bits: for some of the keys a boot draws,
    such a run of ports reaches only half the queues (a CI run saw [0, 19, 13, 0] on igb). A core
    left without a flow gets a second batch from the ports that follow, and must be reached by the
    two together."""
    clients = 8 * CORES
    before = accepted(g)
    r = h2load(ip, n, clients)
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", r.stdout)
    codes = re.search(r"status codes: (\d+) 2xx", r.stdout)
    got = [int(x) for x in m.groups()] if m else []
    result(got == [n] * 4 + [0] * 3 and codes and int(codes.group(1)) == n, "h2load" + tag,
           f"h2load --h1, {clients} connections: " + (m.group(0) if m else "no result: " + (r.stdout + r.stderr)[-300:])
           + (f"; {codes.group(1)} 2xx" if codes else ""))
    now = accepted(g)
    if before and now and not all(b > a for a, b in zip(before, now)):
        h2load(ip, n, clients)
        clients *= 2
    spread(g, "h2load-every-core" + tag, before, f"h2load's {clients} connections")


def h2load(ip, n, clients):
    return ns("timeout", "60", "h2load", "--h1", "-n", str(n), "-c", str(clients), url(ip, "/hello"), check=False)


def spread(g, name, before, what):
    """Every core accepted connections since before (accepted()'s list)."""
    after = accepted(g)
    if before and after:
        grew = [b - a for a, b in zip(before, after)]
        result(all(d > 0 for d in grew), name, f"{sum(d > 0 for d in grew)} of {CORES} cores accepted {what} "
               f"(per core: {grew})")
    else:
        result(False, name, "no stats table")


def pings(ip, count):
    """count echoes in a row without loss, tried up to three times (a TCG guest with many vCPUs on a
    loaded 2-core host can miss a 3 s ping deadline): (answered, the attempt, ping's summary)."""
    for attempt in range(1, 4):
        r = ns("ping", "-c", str(count), "-i", "0.2", "-W", "3", ip, check=False)
        if r.returncode == 0 and " 0% packet loss" in r.stdout:
            break
    ok = r.returncode == 0 and " 0% packet loss" in r.stdout
    return ok, attempt, r.stdout.strip().splitlines()[-2] if r.stdout.strip() else r.stderr.strip()


def fresh_client(ip, what):
    """A new client is served within 10 s and ping answers (pings: three echoes)."""
    r = ns("curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url(ip, "/hello"), check=False)
    pinged, attempt, summary = pings(ip, 3)
    result(r.stdout == "200" and pinged, what,
           f"a fresh client got {r.stdout or 'nothing'} within 10 s, ping (attempt {attempt}) {summary}")


def stall_test(ip):
    """48 clients pipeline requests and never read the answers: the appliance must keep serving
    others, and serve again after they are gone."""
    req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 256
    socks, sent = [], 0
    for i in range(48):
        s = socket.socket(family(ip), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect((ip, 80))
        s.setblocking(False)
        socks.append(s)
    end = time.time() + 20
    while time.time() < end:
        moved = 0
        for s in socks:
            try:
                moved += s.send(req)
            except (BlockingIOError, ConnectionError):
                pass
        sent += moved
        if not moved:
            time.sleep(0.5)
            if all(not _can_send(s) for s in socks):
                break
    print(f"stall: 48 clients wrote {sent} bytes of pipelined requests and read nothing", flush=True)
    fresh_client(ip, "stalled-peers-fresh-client")
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    time.sleep(2)
    fresh_client(ip, "after-stalled-peers")


def link_test(g, mon, ip):
    """The link taken down and up from QEMU's monitor: seen on the slow path, the service resumes."""
    monitor(mon, "set_link n0 off")
    m, out = g.expect(r"%s0: link down" % PREFIX, 10)
    result(bool(m), "link-down", "the driver saw the link go down" if m else "no link-down line: " + out[-300:])
    time.sleep(1)
    monitor(mon, "set_link n0 on")
    m, out = g.expect(r"%s0: link up" % PREFIX, 10)
    result(bool(m), "link-up", "the driver saw the link come back" if m else "no link-up line: " + out[-300:])
    time.sleep(1)
    if SERVICE == "http":
        fresh_client(ip, "after-link-flap")
    else:
        got = tcp_echo(ip, b"after the link came back")
        result(got == b"after the link came back", "after-link-flap", f"TCP echo after the link flap: {got!r}")
    g.send("stats")
    m, out = g.expect(r"nic %s0: link (\w+) link_down=(\d+) link_up=(\d+)(?=\s)" % PREFIX, 30)
    result(bool(m) and m.groups() == (b"up", b"1", b"1"), "link-stats",
           "stats counts the flap: " + (m.group(0).decode() if m else out[-300:]))


def monitor_query(path, cmd, wait=3):
    """A monitor command's answer (what QEMU prints within wait seconds)."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.settimeout(0.5)
    c.sendall(cmd.encode() + b"\n")
    got, end = b"", time.time() + wait
    while time.time() < end:
        try:
            d = c.recv(65536)
            if not d:
                break
            got += d
        except socket.timeout:
            pass
    c.close()
    return got.decode(errors="replace")


def gic_test(mon):
    """The machine really has Graviton's interrupt controller, with one redistributor per vCPU."""
    out = monitor_query(mon, "info qtree")
    m = re.search(r"dev: arm-gicv3, id[^\n]*\n(?:\s+[^\n]*\n)*?\s+num-cpu = (\d+)", out)
    result(bool(m) and int(m.group(1)) == CORES, "gicv3",
           f"QEMU's virt machine has a GICv3 for {m.group(1) if m else '?'} vCPUs (expected {CORES})")


def short_flows(ip, n):
    """n short connections, 8 at a time, each from a random source port: a fresh 4-tuple, so the
    flows spread over every core's hash buckets; each checked byte for byte (echo) or for its status
    and body (http). The ports are random as a crowd of clients' are: the kernel's own choice walks
    its range in order (even ports for connect()), and a Toeplitz hash is linear in the port's
    bits, so such a run can leave some buckets nearly empty (3 of 16 cores got none of 300
    such flows in one run)."""
    from concurrent.futures import ThreadPoolExecutor
    import errno
    rnd = random.Random()
    any_addr = "::" if ":" in ip else "0.0.0.0"

    def attempt(i, src):
        if SERVICE == "echo":
            msg = f"short flow {i}\n".encode()
            return tcp_echo(ip, msg, timeout=20, src=src) == msg
        s = socket.create_connection((ip, 80), timeout=20, source_address=src)
        f = s.makefile("rb")
        st, _, body = http_get(f, s, "/hello", keep=False)
        s.close()
        return st == "200" and body == b"Hello from Pollux\n"

    def one(i):
        for _ in range(8):
            try:
                return attempt(i, (any_addr, rnd.randrange(20000, 60000)))
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    return False
        return False
    t0 = time.time()
    with ThreadPoolExecutor(8) as ex:
        ok = sum(ex.map(one, range(n)))
    result(ok == n, "short-flows", f"{ok} of {n} short {SERVICE} connections answered correctly "
           f"in {time.time() - t0:.1f} s")


def _can_send(s):
    import select
    return bool(select.select([], [s], [], 0)[1])


def rx_table(g, cols=("rx_pkts", "steered")):
    """`stats`' first table's columns cols as {column: [value per core]}, or None."""
    g.send("stats")
    m, out = g.expect(r"(core\s+q\s+rx_pkts[^\n]*)\n((?:\d+[^\n]*\n){%d})" % CORES, 30)
    if not m:
        return None
    head = m.group(1).decode().split()
    rows = [dict(zip(head, l.split())) for l in m.group(2).decode().splitlines()]
    return {k: [int(r[k]) for r in rows] for k in cols}


def prof_check(g):
    """`prof` after `prof on` and the service tests: the header, one row per core and the total,
    every core took in frames, and so every stage's ns per frame is a number."""
    g.send("prof")
    m, out = g.expect(r"prof: (\S+), counter (\d+) Hz[^\n]*\n[^\n]*\n(core\s+frames[^\n]*)\n((?:(?:\d+|all) [^\n]*\n){%d})"
                      % (CORES + 1), 30)
    if not m:
        result(False, "prof", "no prof table:\n" + out[-800:])
        return
    head = m.group(3).decode().split()
    lines = m.group(4).decode().splitlines()
    rows = [dict(zip(head, l.split())) for l in lines]
    shape = all(len(l.split()) == len(head) for l in lines) and [r["core"] for r in rows] == \
        [str(i) for i in range(CORES)] + ["all"]
    frames = [int(r["frames"]) for r in rows]
    ok = m.group(1) == b"on" and shape and all(f > 0 for f in frames) and sum(frames[:-1]) == frames[-1] \
        and float(rows[-1]["frame_ns"]) > 0
    result(ok, "prof", f"prof {m.group(1).decode()}, counter {int(m.group(2))} Hz, frames per core {frames[:-1]}, "
           f"total {frames[-1]}; all: " + " ".join(f"{k}={rows[-1][k]}" for k in head if k.endswith("_ns")))
    g.send("prof off")


def nic_rss_check(before, after):
    """Across the service tests only (DHCP, which goes to core 0 whatever its hash, comes before;
    the link flap and the stall test's ICMP errors, which the NIC cannot place by flow, after):
    every queue received frames and not one needed steering in software."""
    if not before or not after:
        result(False, "nic-rss", "no stats table")
        return
    rx = [a - b for a, b in zip(after["rx_pkts"], before["rx_pkts"])]
    steered = [a - b for a, b in zip(after["steered"], before["steered"])]
    result(all(x > 0 for x in rx) and sum(steered) == 0, "nic-rss",
           f"the NIC's own RSS put every flow on its core's queue: frames received per queue {rx}, "
           f"steered in software {steered}")


def pci_test(g):
    """The NIC's config space was reached the way the machine offers: through ports 0xCF8/0xCFC on
    QEMU's pc (no MCFG), through ECAM on q35 and virt, where no function is reached through ports."""
    g.send("pci")
    m, out = g.expect(r"pci: (\d+) functions([^\n]*)\n", 30)
    ml, outl = g.expect(r"((?:pci: [0-9a-f]{4}:[^\n]*\n){%d})" % int(m.group(1)), 30) if m else (None, "")
    if not ml:
        result(False, "pci-config", "no answer to 'pci':\n" + (out + outl)[-800:])
        return
    ids = {"virtio": r"1af4:(?:1000|1041)", "igb": r"8086:10c9"}[NIC]
    nics = [l for l in ml.group(1).decode().splitlines() if re.search(r" %s class 02/00" % ids, l)]
    ports = re.search(r", (\d+) through ports 0xCF8/0xCFC", m.group(2).decode())
    if PC:
        ok = len(nics) == 1 and nics[0].rstrip().endswith(" cfg=ports") and ports is not None \
            and int(ports.group(1)) == int(m.group(1))
        how = "every function, the NIC among them, reached through ports 0xCF8/0xCFC (no MCFG on pc)"
    else:
        ok = len(nics) == 1 and "cfg=ports" not in nics[0] and ports is None
        how = "the NIC and every other function reached through ECAM, no port used"
    result(ok, "pci-config", f"{how}: {m.group(1).decode()} functions{m.group(2).decode().rstrip()}; "
           + (nics[0].strip() if nics else "no NIC line:\n" + ml.group(0).decode()[-800:]))


def accepted(g):
    """Each core's tcp_acc from `stats`, or None."""
    t = rx_table(g, ("tcp_acc",))
    return t and t["tcp_acc"]


def ipv6_tests(tb):
    """The IPv6 twins of the checks above: the address by SLAAC, ping, the service's checks, and
    every core serving IPv6 connections (the NIC's RSS, or software steering, hashes IPv6 flows).
    Returns the address, or None."""
    g = tb.g
    ip6 = boot6(tb, result)
    if not ip6:
        return None
    pinged, attempt, summary = pings(ip6, 5)
    result(pinged, "nd-ping-v6", f"neighbour discovery resolves and ICMPv6 echo answers (attempt {attempt}): {summary}")
    mcast_filter_test(g)
    before = accepted(g)
    if SERVICE == "echo":
        echo_tests(ip6, "-v6", flows=96)
    else:
        http_tests(g, ip6, "-v6", n=500, wrk_s=5)
    spread(g, "every-core-v6", before, "IPv6 connections")
    return ip6


def v6only(tb):
    """An IPv6-only image: it boots, takes no IPv4 address though DHCP is offered, and passes the
    IPv6 twins, the stalled clients and the link flap over its SLAAC address."""
    g = tb.g
    m, out = g.expect(r"pollux: ready arch=\S+ cores=(\d+) ", 180)
    result(bool(m) and int(m.group(1)) == CORES, "ready", f"booted, cores={m.group(1).decode() if m else '?'}")
    if not m:
        return
    setns()
    ip6 = ipv6_tests(tb)
    if not ip6:
        return
    if SERVICE == "http":
        stall_test(ip6)
    link_test(g, tb.mon, ip6)
    with open(tb.log, "rb") as f:
        console = f.read()
    result(b"pollux: ready" in console and b"pollux: ip=" not in console, "no-ipv4",
           "no IPv4 address taken all along (dnsmasq offers DHCP on the same link)")


def dhcp6_lease(tb, ip6):
    """dnsmasq's lease of ip6: (expiry, iaid, duid) or None."""
    try:
        lines = open(tb.leases).read().splitlines()
    except OSError:
        return None
    for l in lines:
        f = l.split()
        if len(f) >= 5 and f[2] == ip6:
            return int(f[0]), int(f[1]), f[4]
    return None


def dhcp6_tests(tb):
    """The address by DHCPv6: leased, answered on, renewed at T1; every DHCPv6 message taken."""
    g = tb.g
    ip6 = boot6(tb, result)
    if not ip6:
        return
    lease = dhcp6_lease(tb, ip6)
    # DUID-LL (type 3, hardware type 1) from the MAC; the IAID the MAC's last four bytes.
    ok = bool(lease) and lease[2].startswith("00:03:00:01:") and len(lease[2]) == 29 \
        and lease[1] == int("".join(lease[2].split(":")[6:]), 16)
    result(ok, "dhcp6-lease", f"dnsmasq leased {ip6} to DUID-LL and IAID of the MAC: {lease}")
    pinged, attempt, summary = pings(ip6, 3)
    result(pinged, "dhcp6-ping6", f"the leased address answers ICMPv6 echo (attempt {attempt}): {summary}")
    codes = []
    for i in range(8):
        r = ns("curl", "-6", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url(ip6, "/hello"),
               check=False)
        codes.append(r.stdout)
    result(codes == ["200"] * 8, "dhcp6-curl6", f"curl -6 on the leased address, 8 connections: {codes}")
    # T1 is half of dnsmasq's 2-minute lease: the Renew moves the lease's end later.
    first = lease[0] if lease else 0
    end = time.time() + 100
    now = lease
    while time.time() < end:
        now = dhcp6_lease(tb, ip6)
        if now and now[0] > first:
            break
        time.sleep(2)
    renewed = bool(now) and now[0] > first
    result(renewed, "dhcp6-renew", f"the lease was renewed at T1 (its end {first} -> {now[0] if now else '?'})")
    r = ns("curl", "-6", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url(ip6, "/hello"), check=False)
    result(r.stdout == "200", "dhcp6-after-renew", f"the address still served after the Renew: {r.stdout}")
    d = dhcp6_drops(g)
    result(d is not None and not any(d), "dhcp6-no-drops", f"no DHCPv6 message from dnsmasq dropped (dhcp6_d per core: {d})")
    # Forged messages to the client's port, from the namespace: each dropped and counted, on core 0.
    m = re.search(r"pollux: ip6=(fe80::[0-9a-f:]+)\r?\n", open(g.log.name, errors="replace").read())
    forged = [b"\x07\x00", b"\x07" + bytes(3) + b"\x00\x01\x00\xff" + bytes(8),
              b"\x02\xab\xcd\xef" + bytes(40), bytes(range(200))]
    if m and d is not None:
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            u.bind(("::", 547))         # a server's port; dnsmasq may hold it: then any (dropped too)
        except OSError:
            u.bind(("::", 0))
        for f in forged:
            u.sendto(f, (m.group(1) + "%tap0", 546))
        u.close()
        time.sleep(1)
        d2 = dhcp6_drops(g)
        ok = d2 is not None and d2[0] - d[0] == len(forged) and d2[1:] == d[1:]
        r = ns("curl", "-6", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url(ip6, "/hello"),
               check=False)
        result(ok and r.stdout == "200", "dhcp6-forged",
               f"{len(forged)} forged messages to port 546 dropped and counted on core 0 (dhcp6_d {d} -> {d2}), "
               f"still serving: {r.stdout}")
    else:
        result(False, "dhcp6-forged", f"no link-local address printed, or no drops table ({d})")


def drops(g, col):
    """Each core's column col of `stats`' drops table and the NIC's device line, or (None, "")."""
    g.send("stats")
    m, out = g.expect(r"(core\s+q\s+rx_bad[^\n]*)\n((?:\d+[^\n]*\n){%d})(?:nic q[^\n]*\n)*"
                      r"(nic \S+0: [^\n]*)\n" % CORES, 30)
    if not m:
        print(out[-800:])
        return None, ""
    head = m.group(1).decode().split()
    return [int(dict(zip(head, l.split()))[col]) for l in m.group(2).decode().splitlines()], m.group(3).decode()


def dhcp6_drops(g):
    """Each core's dhcp6_d from `stats`, or None."""
    return drops(g, "dhcp6_d")[0]


def mcast_filter_test(g):
    """The NIC's multicast filter holds the groups the guest joined and nothing else: ICMPv6 echoes
    to the solicited-node group of an address the guest does not have never reach its stack (the
    stack's count of multicast to groups not joined, mc_drop, stays flat), while with the filter
    off (test command `mcast all`) the same frames arrive and are counted, so the check can fail."""
    def blast():
        ns("ping", "-6", "-c", "5", "-i", "0.2", "-w", "3", "-I", "tap0", "ff02::1:ff00:1234", check=False)
        time.sleep(1)

    def state(line):
        m = re.search(r"mcast_entries=(\d+) mcast_all=(\d)", line)
        return (int(m.group(1)), int(m.group(2))) if m else (None, None)

    d0, line = drops(g, "mc_drop")
    entries, every = state(line)
    blast()
    d1, _ = drops(g, "mc_drop")
    g.send("mcast all")
    time.sleep(1)
    blast()
    d2, line2 = drops(g, "mc_drop")
    g.send("mcast")
    time.sleep(1)
    d3, line3 = drops(g, "mc_drop")
    if None in (d0, d1, d2, d3):
        result(False, "mcast-filter", "no drops table or NIC line")
        return
    filtered = bool(entries) and every == 0 and sum(d1) == sum(d0)
    result(filtered and state(line2) == (0, 1) and sum(d2) > sum(d1) and state(line3) == (entries, 0),
           "mcast-filter", f"{NIC} filters on {entries} groups (all multicast: {every}): echoes to ff02::1:ff00:1234 "
           f"counted by the stack {sum(d1) - sum(d0)} times; with the filter off {sum(d2) - sum(d1)} times "
           f"({state(line2)}), then back to {state(line3)}")


def refused(ip, port):
    """True when a connection to ip:port is refused: a RST answers the SYN."""
    try:
        socket.create_connection((ip, port), timeout=20).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        pass
    return False


def get(ip, port, path):
    """One GET (curl, in the namespace): (status, body), ("", b"") when nothing answered."""
    host = f"[{ip}]" if ":" in ip else ip
    r = ns("curl", "-s", "-m", "30", "-o", "-", "-w", "\n%{http_code}", f"http://{host}:{port}{path}", check=False)
    body, _, status = r.stdout.rpartition("\n")
    return (status if r.returncode == 0 else ""), body.encode()


def metric(text, name):
    """The sum over cores of counter pollux_NAME in a scrape."""
    return sum(int(v) for v in re.findall(r"^pollux_%s\{[^}]*\} (\d+)$" % name, text, re.M))


def mgmt_tests(tb, ip):
    """The management port on its own addresses (config/mgmt.h), IPv4 and IPv6, and the service on
    the others."""
    mgmt, out = console_find(tb, r"pollux: mgmt=(\S+)\r?\n", 30)
    result(mgmt == MGMT_IP, "mgmt-addr", f"the management address printed: {mgmt or out[-300:]}")
    mgmt6, out = console_find(tb, r"pollux: mgmt6=(\S+)\r?\n", 30)
    result(mgmt6 == MGMT_IP6, "mgmt-addr-v6", "the management IPv6 address printed once every core's duplicate "
           f"address detection passed: {mgmt6 or out[-300:]}")
    ip6 = boot6(tb, result)
    setns()
    first = ""
    for addr, tag in ((MGMT_IP, ""), (MGMT_IP6, "-v6")):
        st, body = get(addr, 9100, "/metrics")
        chk = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
        text = body.decode(errors="replace")
        first = first or text
        result(st == "200" and chk.returncode == 0 and "pollux_build_info{" in text, "mgmt-metrics" + tag,
               f"/metrics on {addr} port 9100 -> {st or 'no answer'}, {len(body)} bytes, promtool check metrics exit "
               f"{chk.returncode} {chk.stdout.decode().strip()[:200]}{chk.stderr.decode().strip()[:200]}")
        # Scrapes are hashed to cores like any flow: 40 leave none out but with odds of 4 in 100,000 (4 cores).
        before = accepted(tb.g)
        codes = [get(addr, 9100, "/metrics")[0] for _ in range(40)]
        after = accepted(tb.g)
        served = [b - a for a, b in zip(before, after)] if before and after else []
        result(codes.count("200") == 40 and len(served) == CORES and min(served) > 0, "mgmt-every-core" + tag,
               f"{codes.count('200')} of 40 scrapes on {addr} answered; connections accepted per core: {served}")
    st, _ = get(ip, 80, "/hello")
    result(st == "200", "mgmt-service", f"HTTP on the service address {ip}:80 -> {st or 'no answer'}")
    wrong = [(ip, 9100), (MGMT_IP, 80), (MGMT_IP6, 80)] + ([(ip6, 9100)] if ip6 else [])
    bad = [f"{a}:{p}" for a, p in wrong if not refused(a, p)]
    result(not bad and ip6, "mgmt-refused", "refused (RST): " + ", ".join(f"{a}:{p}" for a, p in wrong)
           + (f"; not refused: {bad}" if bad else "") + ("" if ip6 else "; no IPv6 address to try"))
    st, body = get(MGMT_IP, 9100, "/metrics")
    second = body.decode(errors="replace")
    req = (metric(first, "requests_total"), metric(second, "requests_total"))
    l4 = (metric(first, "l4_drop_total"), metric(second, "l4_drop_total"))
    result(st == "200" and req[1] > req[0] and l4[1] - l4[0] >= len(wrong), "mgmt-counted",
           f"a second scrape -> {st or 'no answer'}: requests_total {req[0]} -> {req[1]} (the GET between), "
           f"l4_drop_total {l4[0]} -> {l4[1]} ({len(wrong)} refusals)")


def main():
    log = os.path.join(os.path.dirname(IMAGE), f"net-{ARCH}-{CORES}c-{QUEUES}q-{SERVICE}"
                       + "".join("-" + o for o in OPTS) + ".log")
    if GIC3:
        os.environ["QEMU_MACHINE"] = "virt,gic-version=3"
    if PC:
        os.environ["QEMU_MACHINE"] = "pc"
    with Testbed(ARCH, IMAGE, CORES, QUEUES, log, static=STATIC, nic=NIC, dhcp6=DHCP6, mgmt=MGMT) as tb:
        if V6ONLY:
            return v6only(tb)
        ip = boot(tb, result, after_ready=(lambda: gic_test(tb.mon)) if GIC3 else None)
        if not ip:
            return
        if DHCP6:
            setns()
            dhcp6_tests(tb)
            return
        if MGMT:
            mgmt_tests(tb, ip)
            return
        g, mon = tb.g, tb.mon
        pci_test(g)
        setns()
        pinged, attempt, summary = pings(ip, 5)
        result(pinged, "arp-ping", f"ARP resolves and ICMP echo answers (attempt {attempt}): {summary}")
        before = rx_table(g) if NIC == "igb" and not FLOWS else None
        if not FLOWS:
            g.send("prof on")       # the loop's profile over the service tests (prof_check)
        if FLOWS:
            short_flows(ip, FLOWS)
        elif SERVICE == "echo":
            echo_tests(ip)
        else:
            http_tests(g, ip)
        if before:
            nic_rss_check(before, rx_table(g))
        if not FLOWS:
            prof_check(g)
            ipv6_tests(tb)
            if SERVICE == "http":
                stall_test(ip)
            link_test(g, mon, ip)
        g.send("stats")
        m, out = g.expect(r"(core\s+q\s+rx_pkts[^\n]*)\n((?:\d+[^\n]*\n){%d})" % CORES, 30)
        if m:
            head = m.group(1).decode().split()
            rows = [dict(zip(head, l.split())) for l in m.group(2).decode().splitlines()]
            col = lambda name: [int(r[name]) for r in rows]
            accepted = [a for a in col("tcp_acc") if a > 0]
            result(len(accepted) == CORES, "every-core",
                   f"{len(accepted)} of {CORES} cores accepted TCP connections (tcp_acc per core: "
                   + ", ".join(map(str, col("tcp_acc"))) + f"; frames steered per core: {col('steered')})")
            if QUEUES < CORES:
                owners = [r for r in rows if int(r["q"]) >= 0]
                result(len(owners) == QUEUES and all(int(r["steered"]) > 0 for r in owners)
                       and all(int(r["fwd_tx"]) > 0 for r in rows if int(r["q"]) < 0), "steering",
                       f"{QUEUES} queue owner(s) steered flows to the other cores, which sent through them "
                       f"(steered {col('steered')}, fwd_tx {col('fwd_tx')})")
        else:
            result(False, "every-core", "no stats table:\n" + out[-800:])
        m, out = g.expect(r"(core\s+q\s+rx_bad[^\n]*)\n((?:\d+[^\n]*\n){%d})((?:nic [^\n]*\n)+)" % CORES, 10)
        if m:
            head = m.group(1).decode().split()
            rows = [dict(zip(head, l.split())) for l in m.group(2).decode().splitlines()]
            bad = {k: sum(int(r[k]) for r in rows) for k in ("rx_bad", "csum_err", "tx_big", "fwd_dr")}
            for k in ("bad_used", "bad_idx", "resets", "stray_wb", "bad_len", "not_eop", "reset_stuck"):
                bad[k] = sum(int(v) for kk, v in re.findall(r"\b(%s)=(\d+)" % k, m.group(3).decode()))
            result(not any(bad.values()), "no-bad-frames", f"no malformed frames or device errors: {bad}")
        else:
            result(False, "no-bad-frames", "no drops table:\n" + out[-800:])


if __name__ == "__main__":
    main()
    sys.exit(result.summary("net"))
