#!/usr/bin/env python3
"""Where a frame's time goes (issue 17): boot an image (make bench's 64 B HTTP image, config/bench64.h)
with one vCPU and one queue pair on the network tests' namespace (tests/net/netns.py), warm up with
wrk, run wrk keep-alive (one thread, 16 connections) for SECONDS with the profile off, then `prof on`,
the same again, `prof`: prints both rates (what timing costs) and the loop's profile table. A measurement, not a test: not part of make test or make bench.

Usage: prof.py ARCH IMAGE [SECONDS]     (root: it makes a network namespace)
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "net"))
from netns import NS, Results, Testbed, boot  # noqa: E402

ARCH, IMAGE = sys.argv[1], sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 10


def wrk(url, seconds):
    r = subprocess.run(["ip", "netns", "exec", NS, "timeout", "-s", "KILL", str(seconds + 20), "wrk", "-t1", "-c16",
                        f"-d{seconds}s", url], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    return (float(m.group(1)) if m else None), r.stdout


def main():
    result = Results(f"prof {ARCH}")
    log = os.path.join(os.path.dirname(IMAGE), f"prof-{ARCH}.log")
    with Testbed(ARCH, IMAGE, 1, 1, log) as tb:
        ip = boot(tb, result)
        if not ip:
            return 1
        url = f"http://{ip}/"
        wrk(url, 3)                     # warm-up: ARP, connections, the site's pages touched
        off, _ = wrk(url, SECONDS)
        tb.g.send("prof on")
        rate, out = wrk(url, SECONDS)
        tb.g.send("prof")
        m, got = tb.g.expect(r"(prof: on, counter[^\n]*\n(?:[^\n]*\n){4})", 30)
        tb.g.send("prof off")
        print(f"wrk -t1 -c16 -d{SECONDS}s keep-alive: prof off {off} req/s, prof on {rate} req/s" if rate else out)
        print(m.group(1).decode() if m else "no prof table:\n" + got[-800:])
        return 0 if m and rate else 1


if __name__ == "__main__":
    sys.exit(main())
