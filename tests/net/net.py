#!/usr/bin/env python3
"""Network tests: boot Pollux (echo service) on a tap device in a network namespace this test
creates, with dnsmasq as the DHCP server, and check ARP/ping, TCP and UDP echo byte for byte,
and that every core served traffic. Addresses come from 198.18.0.0/15; nothing leaves the namespace.

Usage: net.py ARCH IMAGE CORES QUEUES [echo|http] [static] [igb]
(static: the image has the static address 198.18.0.2 of config/static.h, and no DHCP server runs.
igb: QEMU's 82576 instead of virtio-net; it offers 16 queue pairs, the driver takes one per core
and the NIC's own RSS must place every flow on its core's queue; QUEUES is then min(CORES, 16).)
"""
import os
import random
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from guest import QEMU_SH, Guest  # noqa: E402

ARCH, IMAGE, CORES, QUEUES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
SERVICE = sys.argv[5] if len(sys.argv) > 5 else "echo"
STATIC = "static" in sys.argv[6:]
NIC = "igb" if "igb" in sys.argv[6:] else "virtio"
if NIC == "igb":
    QUEUES = min(CORES, 16)
PREFIX = {"virtio": "vnet", "igb": "igb"}[NIC]          # the driver's log prefix
TAG = f"{ARCH} {CORES}c {QUEUES}q {SERVICE}{' static' if STATIC else ''}{' igb' if NIC == 'igb' else ''}"
NS = f"pollux{os.getpid()}"
HOST_IP = "198.18.0.1"
passed = failed = 0


def result(ok, name, detail):
    global passed, failed
    passed += bool(ok)
    failed += not ok
    print(f"{'PASS' if ok else 'FAIL'} [{TAG}] {name}: {detail}", flush=True)


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def ns(*cmd, **kw):
    return sh("ip", "netns", "exec", NS, *cmd, **kw)


def setns():
    """Move this process into the namespace so sockets below are made there."""
    import ctypes
    fd = os.open(f"/run/netns/{NS}", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:   # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


def tcp_echo(ip, payload, timeout=30):
    s = socket.create_connection((ip, 7), timeout=timeout)
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


def echo_tests(ip):
    rnd = random.Random(7)
    payload = bytes(rnd.getrandbits(8) for _ in range(256 * 1024))
    got = tcp_echo(ip, payload)
    result(got == payload, "tcp-echo", f"256 KiB through TCP echo came back identical ({len(got)} bytes)")
    # Many short connections: the NIC's queues spread them, so every core must serve some.
    bad = 0
    for i in range(64):
        msg = f"flow {i} ".encode() * (i + 1)
        bad += tcp_echo(ip, msg) != msg
    result(bad == 0, "tcp-flows", f"64 connections echoed, {bad} wrong")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
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
    result(ok == 20, "udp-echo", f"{ok} of 20 datagrams (1..1331 bytes) echoed byte for byte")


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


def http_tests(ip):
    r = ns("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", f"http://{ip}/", check=False)
    result(r.stdout.startswith("200 "), "curl-200", f"GET / -> {r.stdout}")
    r = ns("curl", "-s", f"http://{ip}/hello", check=False)
    result(r.stdout == "Hello from Pollux\n", "curl-hello", f"GET /hello body {r.stdout!r}")
    r = ns("curl", "-s", "-w", " %{http_code}", f"http://{ip}/no/such/path", check=False)
    result(r.stdout.endswith(" 404"), "curl-404", f"unknown path -> {r.stdout.split()[-1] if r.stdout else '?'}")
    s = socket.create_connection((ip, 80), timeout=30)
    f = s.makefile("rb")
    bad = 0
    n = 3000
    for i in range(n):
        st, h, body = http_get(f, s, "/hello" if i % 2 else "/")
        bad += st != "200" or len(body) != int(h.get("content-length", -1))
    s.close()
    result(bad == 0, "keepalive", f"{n} requests on one keep-alive connection, {bad} wrong")
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
    result(ok == 50, "pipelined", f"{ok} of 50 pipelined requests answered in order")
    s = socket.create_connection((ip, 80), timeout=10)
    s.sendall(b"GARBAGE\x01\r\n\r\n")
    resp = s.recv(4096)
    s.close()
    result(resp.startswith(b"HTTP/1.1 400"), "malformed-400", f"malformed request -> {resp[:12]!r}")
    r = ns("wrk", "-t2", "-c16", "-d10s", f"http://{ip}/", check=False)
    out = r.stdout
    m = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    ok = bool(m) and int(m.group(1)) > 0 and not errors and not non2xx
    result(ok, "wrk", "wrk 10 s, 16 connections: " + (m.group(0) if m else "no result")
           + (f"; socket errors {errors.group(1)}" if errors else "; 0 socket errors")
           + (f"; non-2xx {non2xx.group(1)}" if non2xx else "; 0 non-2xx"))


def fresh_client(ip, what):
    r = ns("curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", f"http://{ip}/hello", check=False)
    p = ns("ping", "-c", "3", "-i", "0.2", "-W", "3", ip, check=False)
    ok = r.stdout == "200" and " 0% packet loss" in p.stdout
    result(ok, what, f"a fresh client got {r.stdout or 'nothing'} within 10 s, ping "
           + (p.stdout.strip().splitlines()[-2] if p.stdout else p.stderr.strip()))


def stall_test(ip):
    """48 clients pipeline requests and never read the answers: the appliance must keep serving
    others, and serve again after they are gone."""
    req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n" * 256
    socks, sent = [], 0
    for i in range(48):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


def monitor(path, cmd):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.settimeout(2)
    c.sendall(cmd.encode() + b"\n")
    time.sleep(0.5)
    c.close()


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
    m, out = g.expect(r"nic %s0: link (\w+) link_down=(\d+) link_up=(\d+)" % PREFIX, 30)
    result(bool(m) and m.groups() == (b"up", b"1", b"1"), "link-stats",
           "stats counts the flap: " + (m.group(0).decode() if m else out[-300:]))


def _can_send(s):
    import select
    return bool(select.select([], [s], [], 0)[1])


def rx_table(g):
    """`stats`' first table as {column: [value per core]}, or None."""
    g.send("stats")
    m, out = g.expect(r"(core\s+q\s+rx_pkts[^\n]*)\n((?:\d+[^\n]*\n){%d})" % CORES, 30)
    if not m:
        return None
    head = m.group(1).decode().split()
    rows = [dict(zip(head, l.split())) for l in m.group(2).decode().splitlines()]
    return {k: [int(r[k]) for r in rows] for k in ("rx_pkts", "steered")}


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


def main():
    sh("ip", "netns", "add", NS)
    dns = None
    g = None
    try:
        ns("ip", "link", "set", "lo", "up")
        ns("ip", "tuntap", "add", "dev", "tap0", "mode", "tap", *(["multi_queue"] if QUEUES > 1 and NIC == "virtio" else []))
        ns("ip", "addr", "add", f"{HOST_IP}/24", "dev", "tap0")
        ns("ip", "link", "set", "tap0", "up")
        lease = f"/tmp/{NS}.leases"
        dns = None if STATIC else subprocess.Popen(["ip", "netns", "exec", NS, "dnsmasq", "--no-daemon", "--interface=tap0",
                                "--bind-interfaces", "--except-interface=lo", "--port=0", "--no-resolv",
                                "--no-hosts", f"--dhcp-leasefile={lease}",
                                "--dhcp-range=198.18.0.50,198.18.0.99,255.255.255.0,1h"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if NIC == "igb":
            # QEMU's igb computes RSS itself over its queues: one tap queue carries every frame.
            net = ["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", "-device", "igb,netdev=n0"]
        else:
            net = ["-netdev", f"tap,id=n0,ifname=tap0,script=no,downscript=no,queues={QUEUES}",
                   "-device", "virtio-net-pci,netdev=n0" + (f",mq=on,rss=on,vectors={2 * QUEUES + 2}" if QUEUES > 1 else "")]
        mon = f"/tmp/{NS}.mon"
        net += ["-monitor", f"unix:{mon},server,nowait"]
        g = Guest(["ip", "netns", "exec", NS, QEMU_SH, ARCH, IMAGE, str(CORES), "1G"] + net,
                  os.path.join(os.path.dirname(IMAGE), f"net-{ARCH}-{CORES}c-{QUEUES}q-{SERVICE}-{NIC}.log"))
        m, out = g.expect(r"%s0: [^\n]*link (up|down)[\s\S]*?%s0: live, rss (on|off)" % (PREFIX, PREFIX), 180)
        want = "on" if QUEUES > 1 or NIC == "igb" else "off"     # igb hashes even with one queue
        result(bool(m) and m.group(2).decode() == want and m.group(1) == b"up", "rss",
               f"link {m.group(1).decode() if m else '?'}, RSS {m.group(2).decode() if m else '?'} with {QUEUES} "
               f"queue pair(s) (expected up, {want})")
        m, out = g.expect(r"pollux: ready arch=\S+ cores=(\d+)", 180)
        result(bool(m) and int(m.group(1)) == CORES, "ready", f"booted with a {NIC} NIC, cores={m.group(1).decode() if m else '?'}")
        if not m:
            print(out[-2000:])
            return
        m, out = g.expect(r"pollux: ip=(\d+\.\d+\.\d+\.\d+)\r?\n", 60)
        if STATIC:
            result(bool(m) and m.group(1) == b"198.18.0.2", "static-ip",
                   f"every core serves the static address: {m.group(1).decode() if m else out[-300:]}")
        else:
            result(bool(m), "dhcp", f"lwIP's DHCP client got an address from dnsmasq: {m.group(1).decode() if m else out[-300:]}")
        if not m:
            return
        ip = m.group(1).decode()
        setns()
        r = ns("ping", "-c", "5", "-i", "0.2", "-W", "3", ip, check=False)
        result(r.returncode == 0 and " 0% packet loss" in r.stdout, "arp-ping",
               "ARP resolves and ICMP echo answers: " + (r.stdout.strip().splitlines()[-2] if r.stdout else r.stderr))
        before = rx_table(g) if NIC == "igb" else None
        if SERVICE == "echo":
            echo_tests(ip)
        else:
            http_tests(ip)
        if NIC == "igb":
            nic_rss_check(before, rx_table(g))
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
    finally:
        if g:
            g.close()
        if dns:
            dns.kill()
            dns.wait()
        sh("ip", "netns", "del", NS, check=False)


if __name__ == "__main__":
    main()
    print(f"net-summary: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
