#!/usr/bin/env python3
"""Where a frame's time goes (issue 17): boot an image with one vCPU and one queue pair on the
network tests' namespace (tests/net/netns.py), put it under make bench's load for SECONDS with the
profile off, then `prof on`, the same again, `prof`: prints both rates (what timing costs) and the
loop's profile table. A measurement, not a test: not part of make test or make bench.
  http (make bench's 64 B HTTP image, config/bench64.h): warm up with wrk, then wrk keep-alive (one
       thread, 16 connections).
  udp  (make bench's echo image, config/echo.h): make bench's UDP echo load, scripts/bench/udprate.c
       (4 flows of 200 datagrams of 64 B in flight), built into build/prof-tools.

Usage: prof.py ARCH IMAGE [SECONDS] [http|udp]     (root: it makes a network namespace)
PROF_NIC=igb: on QEMU's igb instead of virtio-net.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "net"))
from netns import NS, Results, Testbed, boot  # noqa: E402

ARCH, IMAGE = sys.argv[1], sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
MODE = sys.argv[4] if len(sys.argv) > 4 else "http"
HERE = os.path.dirname(os.path.abspath(__file__))
UDPRATE = os.path.join(HERE, "..", "..", "build", "prof-tools", "udprate")
UDP_FLOWS, UDP_WINDOW, UDP_SIZE = 4, 200, 64    # as make bench (bench.py)


def wrk(url, seconds):
    r = subprocess.run(["ip", "netns", "exec", NS, "timeout", "-s", "KILL", str(seconds + 20), "wrk", "-t1", "-c16",
                        f"-d{seconds}s", url], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    return (float(m.group(1)) if m else None), r.stdout


def udp(ip, seconds, warmup=1):
    r = subprocess.run(["ip", "netns", "exec", NS, "timeout", "-s", "KILL", str(seconds + warmup + 20), UDPRATE, ip, "7",
                        str(seconds), str(warmup), str(UDP_FLOWS), str(UDP_WINDOW), str(UDP_SIZE)],
                       capture_output=True, text=True)
    m = re.search(r"pps=(\d+) echoes=\d+ sent=\d+ refills=\d+ bad=(\d+)", r.stdout)
    return (int(m.group(1)) if m and m.group(2) == "0" else None), r.stdout + r.stderr


def main():
    if MODE not in ("http", "udp"):
        print(__doc__)
        return 2
    if MODE == "udp":
        os.makedirs(os.path.dirname(UDPRATE), exist_ok=True)
        subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", UDPRATE, os.path.join(HERE, "udprate.c")],
                       check=True)
    load = udp if MODE == "udp" else None
    result = Results(f"prof {ARCH}")
    log = os.path.join(os.path.dirname(IMAGE), f"prof-{ARCH}.log")
    with Testbed(ARCH, IMAGE, 1, 1, log, nic=os.environ.get("PROF_NIC", "virtio")) as tb:
        ip = boot(tb, result)
        if not ip:
            return 1
        if load:
            target = ip
        else:
            target = f"http://{ip}/"
            load = wrk
            wrk(target, 3)              # warm-up: ARP, connections, the site's pages touched
        off, _ = load(target, SECONDS)
        tb.g.send("prof on")
        rate, out = load(target, SECONDS)
        tb.g.send("prof")
        m, got = tb.g.expect(r"(prof: on, counter[^\n]*\n(?:[^\n]*\n){4})", 30)
        tb.g.send("prof off")
        tb.g.send("stats")              # the queue's doorbells rung and saved, over both runs
        q, _ = tb.g.expect(r"(nic q0 [^\n]*)\n", 30)
        what = (f"udprate {UDP_FLOWS} flows x {UDP_WINDOW} in flight, {UDP_SIZE} B, {SECONDS} s: prof off {off} pps, "
                f"prof on {rate} pps" if MODE == "udp" else
                f"wrk -t1 -c16 -d{SECONDS}s keep-alive: prof off {off} req/s, prof on {rate} req/s")
        print(what if rate else out)
        print(m.group(1).decode() if m else "no prof table:\n" + got[-800:])
        print(q.group(1).decode() if q else "no queue counters")
        return 0 if m and rate else 1


if __name__ == "__main__":
    sys.exit(main())
