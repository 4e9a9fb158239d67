#!/usr/bin/env python3
"""make bench: Pollux against a Linux guest in two configurations (linux: tuned for throughput;
linux-lat: the same with the kernel's low-latency busy polling), side by side, under the same QEMU
(scripts/qemu.sh: machine q35, CPU max, OVMF, the same vCPUs, RAM, virtio-net device and tap), in
a network namespace this script creates (198.18.0.0/24 and fd00:198:18::/64; dnsmasq gives Pollux
its IPv4 address and, by router advertisements, its IPv6 one by SLAAC), clients inside the
namespace. x86-64 guests only.

    bench.py OUT        OUT = build/bench, where `make bench` put the Pollux images (pollux-64,
                        pollux-16k, pollux-echo), the extracted Debian packages (sysroot) and
                        where results.tsv, results.md (scripts/bench/table.py), results.png and the logs go.

Environment: BENCH_QUICK=1 (one round, short runs: for development), BENCH_VCPUS (default 1),
BENCH_ROUNDS (default 3), BENCH_SECONDS (measured seconds per run, default 8), BENCH_MEM (1G),
BENCH_STEER=0 (skip the steering comparison, which needs 2 vCPUs or more), BENCH_SOAK_S (the
soak's length, run in the first round only: default 600, 60 with BENCH_QUICK; 0 skips it),
BENCH_ONLY (development: a regular expression; only the sessions whose name it matches run, e.g.
"pollux http|linux nginx|linux-lat nginx"), BENCH_WORKLOADS (development: a regular expression;
only the HTTP workloads of those sessions whose key it matches run, e.g. "close" for the
new-connection rows: close, close2, close32, closeab), BENCH_ECHO_ALSO (development: names of
further echo images under OUT, e.g. "pollux-echo-before", each run in a session of its own right
after Pollux's echo in every round, its rate logged and written to OUT/results-echo-also.tsv, not to
the table: a before/after comparison interleaved in one run).
"""
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402 - scripts/bench/table.py: results.tsv's format and the Markdown table

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
QEMU_SH = os.path.join(ROOT, "scripts", "qemu.sh")
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bench"))
QUICK = os.environ.get("BENCH_QUICK", "0") == "1"
VCPUS = int(os.environ.get("BENCH_VCPUS", "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3" if QUICK else "8"))
WARMUP = 1.0 if QUICK else 2.0
MEM = os.environ.get("BENCH_MEM", "1G")
STEER = os.environ.get("BENCH_STEER", "1") == "1"
WORKLOADS = os.environ.get("BENCH_WORKLOADS")   # development: only the HTTP workloads this matches
STEER_VCPUS = max(2, VCPUS)
NS = f"pbench{os.getpid()}"
HOST_IP, LINUX_IP, TESTPMD_IP = "198.18.0.1", "198.18.0.3", "198.18.0.4"
# IPv6: the namespace's /64, routed by dnsmasq's router advertisements (ra-only: Pollux takes its
# address by SLAAC and prints it, `pollux: ip6=`); the Linux guest's address is static (init.sh).
PREFIX6 = "fd00:198:18::"
HOST_IP6, LINUX_IP6 = PREFIX6 + "1", PREFIX6 + "3"
# UDP: 4 flows of up to 200 datagrams in flight each (more than either RX ring holds: the guest, not
# the client, sets the rate). Clients: one wrk thread (the host's other core runs the guest's vCPU), 16 connections for
# throughput; latency at a fixed moderate load: 4 connections, each waiting 4 ms between a
# response and its next request (at most about 1000 requests/s, well under either guest's peak).
CONNS, LAT_CONNS, LAT_DELAY_MS = 16, 4, 4
MANY_CONNS = 10000      # the many-connections row: within the 20,000 open files a process has here
IDLE_CONNS = 10000      # the idle-memory row: connections held open at rest
SUSTAIN_S, SUSTAIN_STEP = (30, 10) if QUICK else (60, 10)      # connection per request, sustained
SOAK_S = int(os.environ.get("BENCH_SOAK_S", "60" if QUICK else "600"))
SOAK_STEP = 10 if QUICK else 60         # the soak's keep-alive rate is measured per step
SOAK_CHURN = 4                          # connections of the churn beside it, one per request
UDP_FLOWS, UDP_WINDOW = 4, int(os.environ.get("BENCH_UDP_WINDOW", "200"))
UDP_RTT_GAP_US = 1000           # the round-trip row: one datagram in flight, 1 ms between them
BOOT_TIMEOUT = 300
# The Linux guest's configurations (table.SYSTEMS): linux, tuned for throughput as README says;
# linux-lat, the same with what the kernel's documentation gives for low-latency polling: the idle
# loop polls instead of halting (idle=poll), and a socket read or an epoll wait busy-polls the
# device queue for up to BUSY_POLL_US before sleeping (net.core.busy_read, net.core.busy_poll: 50
# is the value Documentation/admin-guide/sysctl/net.rst recommends for busy_read set globally, and
# for busy_poll over several sockets). init.sh sets both from bench.busypoll= and reports them.
BUSY_POLL_US = 50
LINUXES = {"linux": {"cmdline": "", "busypoll": 0},
           "linux-lat": {"cmdline": "idle=poll", "busypoll": BUSY_POLL_US}}
LINUX_DESCRIPTION = {
    "linux": "tuned for throughput (`mitigations=off`, nginx and sysctls as README says)",
    "linux-lat": f"the same, and `idle=poll`, `net.core.busy_read` and `net.core.busy_poll` {BUSY_POLL_US} µs",
}
LOGS = os.path.join(OUT, "logs")
TOOLS = os.path.join(OUT, "tools")


def log(msg):
    print(f"bench: {msg}", flush=True)


# A client's own process group, never its own session: with the kernel's autogroups
# (/proc/sys/kernel/sched_autogroup_enabled, on by default) every session is a scheduling group
# that gets as much CPU as any other, so a client in a session of its own (start_new_session, as
# before) got as much as the whole QEMU beside it, vCPU and I/O thread together. On 2 cores a guest
# whose vCPU polls (Pollux, the latency-tuned Linux's idle=poll, testpmd) then left its I/O thread
# half a core: Pollux's 64 B keep-alive made 33,000 req/s so and 51,000 with the client in the
# bench's session, as the QEMU tests' clients run. A guest that halts when idle lost less.
OWN_GROUP = {"process_group": 0}


def sh(*cmd, check=True, timeout=120, text=True):
    """Run a command in a process group of its own, ended with everything it started when it
    overruns timeout or the bench is interrupted (a client left behind could run on forever)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text, **OWN_GROUP)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        raise
    if check and p.returncode:
        raise subprocess.CalledProcessError(p.returncode, cmd, out, err)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def ns(*cmd, check=False, timeout=120):
    return sh("ip", "netns", "exec", NS, *cmd, check=check, timeout=timeout)


class Console:
    """A guest under QEMU: its serial console is drained by a thread (a full pipe would stall the
    guest) into a log and a buffer that expect() searches."""

    live = []      # every guest not yet closed: main() closes them whatever happens

    def __init__(self, argv, log_path):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        Console.live.append(self)
        self.log = open(log_path, "wb")
        self.buf = b""
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        while True:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                return
            self.log.write(chunk)
            self.log.flush()
            with self.lock:
                self.buf = (self.buf + chunk)[-(1 << 20):]

    def expect(self, pattern, timeout):
        rx = re.compile(pattern.encode())
        end = time.time() + timeout
        while True:
            with self.lock:
                m = rx.search(self.buf)
                if m:
                    self.buf = self.buf[m.end():]
                    return m
            if time.time() > end or self.p.poll() is not None:
                return None
            time.sleep(0.2)

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def tail(self, n=1500):
        with self.lock:
            return self.buf[-n:].decode(errors="replace")

    def close(self):
        if self in Console.live:
            Console.live.remove(self)
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.t.join(5)
        self.log.close()


# ---------------------------------------------------------------- clients

def wrk_parse(out):
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("wrk gave no rate:\n" + out[-800:])
    r = {"rps": float(m.group(1))}
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = sum(int(x) for x in errs.groups()) if errs else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            r[f"p{pct}"] = float(m.group(1)) * unit[m.group(2)]
    return r


def wrk(url, seconds, conns, extra=()):
    # wrk stops only when a response completes after the duration: a server that stops answering
    # every connection would keep it forever, hence the outer timeout.
    args = ["timeout", "-s", "KILL", f"{seconds + 20:g}", "wrk", "-t1", f"-c{conns}", f"-d{seconds:g}s",
            "--timeout", "2s", *extra, url]
    r = ns(*args, timeout=seconds + 40)
    if r.returncode == -9 or r.returncode == 137:
        raise RuntimeError(f"wrk {url} {' '.join(extra)}: no response on any connection, killed after {seconds + 20:g} s")
    return wrk_parse(r.stdout)


def http_run(url, close=False, latency=False, warmup=True, conns=CONNS):
    """Warm up, then measure; returns the parsed wrk result of the measured part. The warm-up of a
    connection-per-request run uses keep-alive: its own connections would leave TIME_WAIT state
    on the server for the client's ports, which the measured run then reuses (measured apart)."""
    extra = ["-H", "Connection: close"] if close else []
    if latency:
        extra = ["--latency", "-s", os.path.join(HERE, "delay.lua")]
        conns = LAT_CONNS
    os.environ["BENCH_DELAY_MS"] = str(LAT_DELAY_MS)     # read by delay.lua
    if warmup:
        wrk(url, WARMUP, conns, [] if close else extra)
    r = wrk(url, SECONDS, conns, extra)
    if r["non2xx"] or r["rps"] <= 0:
        raise RuntimeError(f"wrk {url}: {r}")
    return r


def ab_run(url, conns):
    """ApacheBench (apache2-utils) without keep-alive: HTTP/1.0 requests, a new connection for each,
    conns at once, for SECONDS. Its rate, failed requests and non-2xx answers; a run with either
    is recorded as one with socket errors (marked in the table)."""
    ns("ab", "-q", "-n", "1000000", "-c", str(conns), "-t", f"{WARMUP:g}", url, timeout=WARMUP + 60)
    r = ns("ab", "-q", "-n", "10000000", "-c", str(conns), "-t", f"{SECONDS:g}", "-s", "2", url,
           timeout=SECONDS + 60)
    m = re.search(r"Requests per second:\s+([\d.]+)", r.stdout)
    if not m:
        raise RuntimeError(f"ab {url}: no rate: {(r.stdout + r.stderr)[-400:]}")
    failed = re.search(r"Failed requests:\s+(\d+)", r.stdout)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", r.stdout)
    errors = (int(failed.group(1)) if failed else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"rps": float(m.group(1)), "errors": errors, "non2xx": 0}


def udp_run(ip):
    r = ns(os.path.join(TOOLS, "udprate"), ip, "7", f"{SECONDS:g}", f"{WARMUP:g}", str(UDP_FLOWS),
           str(UDP_WINDOW), "64", timeout=SECONDS + WARMUP + 30)
    m = re.search(r"pps=(\d+) echoes=(\d+) sent=(\d+) refills=(\d+) bad=(\d+)", r.stdout)
    if not m:
        raise RuntimeError("udprate: " + r.stdout + r.stderr)
    pps, echoes, sent, refills, bad = map(int, m.groups())
    if bad or echoes == 0:
        raise RuntimeError(f"udp echo: {echoes} echoes, {bad} wrong")
    return {"pps": pps, "refills": refills}


def udp_rtt(ip):
    """The UDP round trip at low load (scripts/bench/udprtt.c): p50 and p99 in ms."""
    r = ns(os.path.join(TOOLS, "udprtt"), ip, "7", f"{SECONDS:g}", f"{WARMUP:g}", str(UDP_RTT_GAP_US), "64",
           timeout=SECONDS + WARMUP + 30)
    m = re.search(r"p50_us=([\d.]+) p90_us=([\d.]+) p99_us=([\d.]+) n=(\d+) lost=(\d+) bad=(\d+)", r.stdout)
    if not m or int(m.group(4)) == 0 or int(m.group(6)):
        raise RuntimeError("udprtt: " + r.stdout + r.stderr)
    return {"p50": float(m.group(1)) / 1000, "p99": float(m.group(3)) / 1000, "lost": int(m.group(5))}


def record_rtt(workload, system, r):
    record(workload, "p50 ms", system, r["p50"])
    record(workload, "p99 ms", system, r["p99"])


def fetch(url):
    """The body at url, as bytes."""
    return sh("ip", "netns", "exec", NS, "curl", "-g", "-s", "--max-time", "20", url, check=False, timeout=30,
              text=False).stdout


# ---------------------------------------------------------------- guests

class Net:
    """The namespace, dnsmasq, and a tap device made anew for each guest."""

    def __init__(self):
        sh("ip", "netns", "add", NS)
        self.dns = None
        ns("ip", "link", "set", "lo", "up", check=True)
        self.dns = subprocess.Popen(
            ["ip", "netns", "exec", NS, "dnsmasq", "--no-daemon", "--interface=tap0", "--bind-dynamic",
             "--except-interface=lo", "--port=0", "--no-resolv", "--no-hosts",
             f"--dhcp-leasefile={OUT}/dnsmasq.leases", "--dhcp-range=198.18.0.50,198.18.0.99,255.255.255.0,1h",
             "--enable-ra", f"--dhcp-range={PREFIX6},ra-only,64,1h"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tap(self, queues):
        ns("ip", "link", "del", "tap0")
        ns("ip", "tuntap", "add", "dev", "tap0", "mode", "tap", *(["multi_queue"] if queues > 1 else []), check=True)
        ns("ip", "addr", "add", f"{HOST_IP}/24", "dev", "tap0", check=True)
        ns("ip", "-6", "addr", "add", f"{HOST_IP6}/64", "dev", "tap0", "nodad", check=True)
        ns("ip", "link", "set", "tap0", "up", check=True)

    def close(self):
        if self.dns:
            self.dns.kill()
            self.dns.wait()
        sh("ip", "netns", "del", NS, check=False)


def qemu_argv(image, vcpus, queues, extra=()):
    env = ["env", "NET=tap", "TAP=tap0", f"QUEUES={queues}"]
    return ["ip", "netns", "exec", NS, *env, QEMU_SH, "x86_64", image, str(vcpus), MEM, *extra]


def boot_pollux(net, name, vcpus, queues, tag, extra=(), v6=False):
    """Boot an image; its IPv4 address, or with v6 (ip4, ip6): the global IPv6 address it took by
    SLAAC too, printed before or after the IPv4 one (None if none came within a minute of it)."""
    net.tap(queues)
    g = Console(qemu_argv(os.path.join(OUT, name, "pollux.img"), vcpus, queues, extra),
                os.path.join(LOGS, f"{tag}.log"))
    rx6 = r"pollux: ip6=(%s[0-9a-f:]+)\r?\n" % PREFIX6.rstrip(":")
    ip, ip6, end = None, None, None
    while ip is None or (v6 and ip6 is None and time.time() < end):
        m = g.expect(r"pollux: ip=(\d+\.\d+\.\d+\.\d+)\r?\n|" + rx6, BOOT_TIMEOUT if ip is None else end - time.time())
        if not m:
            break
        if m.group(1):
            ip, end = m.group(1).decode(), time.time() + 60
        else:
            ip6 = m.group(2).decode()
    if not ip:
        g.close()
        raise RuntimeError(f"{tag}: Pollux did not get an address:\n{g.tail()}")
    return (g, ip, ip6) if v6 else (g, ip)


LINUX = {}


def boot_linux(net, mode, vcpus, queues, tag, rps=0, delay=(), system="linux"):
    """A Linux guest in configuration system (LINUXES) running mode (nginx or testpmd)."""
    net.tap(queues)
    ip = TESTPMD_IP if mode == "testpmd" else LINUX_IP
    conf = LINUXES[system]
    cmdline = (f"console=ttyS0 quiet mitigations=off panic=-1 {conf['cmdline']} bench.mode={mode} "
               f"bench.ip={ip}/24 bench.ip6={LINUX_IP6}/64 bench.rps={rps} bench.busypoll={conf['busypoll']}")
    # testpmd needs no bodies: the base archive alone.
    initrd = os.path.join(OUT, "linux", "base.cpio") if mode == "testpmd" else LINUX["initrd"]
    extra = ["-kernel", LINUX["kernel"], "-initrd", initrd, "-append", cmdline, *delay]
    g = Console(qemu_argv(LINUX["disk"], vcpus, queues, extra), os.path.join(LOGS, f"{tag}.log"))
    if mode == "testpmd":
        m = g.expect(r"bench: error[^\n]*|Cause: [^\n]*|Port 0: ([0-9A-Fa-f:]{17})", BOOT_TIMEOUT)
        if not m or not m.group(1):
            g.close()
            raise RuntimeError(f"{tag}: testpmd did not start:\n{g.tail()}")
        mac = m.group(1).decode()
        m = g.expect(r"(?i)packet forwarding|Press enter", 120)
        if not m:
            g.close()
            raise RuntimeError(f"{tag}: testpmd is not forwarding:\n{g.tail()}")
        # testpmd answers no ARP: the namespace knows the guest's MAC.
        ns("ip", "neigh", "replace", ip, "lladdr", mac, "dev", "tap0", "nud", "permanent", check=True)
        time.sleep(1)
        return g, ip
    m = g.expect(r"bench: (ready|error)[^\n]*", BOOT_TIMEOUT)
    if not m or m.group(1) != b"ready":
        g.close()
        raise RuntimeError(f"{tag}: the Linux guest did not come up:\n{g.tail()}")
    # The guest says what it applied: a configuration that did not take is an error, not a row.
    want = f"busy_poll={conf['busypoll']} busy_read={conf['busypoll']}"
    if (want.encode() not in m.group(0) or (conf["cmdline"] and conf["cmdline"].encode() not in m.group(0))
            or f"ip6={LINUX_IP6}/64 ".encode() not in m.group(0)):
        g.close()
        raise RuntimeError(f"{tag}: the guest is not in configuration {system} ({want} {conf['cmdline']} "
                           f"ip6={LINUX_IP6}/64): "
                           f"{m.group(0).decode(errors='replace').strip()}")
    return g, ip


# ---------------------------------------------------------------- the bench

RESULTS = {}     # (workload, metric) -> {system: [a value per round]} (table.SYSTEMS)
ERRORS = {}      # (workload, metric) -> {system: n}: socket errors over the rounds
ROWS = []        # (workload, metric) in first-seen order
NOTES = []


def record(workload, metric, system, value, errors=0):
    """One round's value; errors: wrk's socket errors in that run (connect, read, write, timeout).
    A run with errors is kept but marked: '!' in the table, counted in the TSV's error columns."""
    key = (workload, metric)
    if key not in RESULTS:
        RESULTS[key] = {s: [] for s in table.SYSTEMS}
        ERRORS[key] = {s: 0 for s in table.SYSTEMS}
        ROWS.append(key)
    RESULTS[key][system].append(value)
    ERRORS[key][system] += errors


def record_rps(workload, system, r):
    """A wrk run's rate, with its socket errors."""
    record(workload, "req/s", system, r["rps"], r["errors"])


def guest_memory(system, g):
    """What the guest's network side holds, in bytes: Pollux's network memory in use (`stats`,
    used_kb: the stack's and the service's blocks), Linux's memory no longer free (MemFree: the
    kernel's sockets and buffers and nginx's)."""
    if system == "pollux":
        return pollux_stats(g)["used_kb"] * 1024
    g.send("grep ^MemFree: /proc/meminfo")
    m = g.expect(r"MemFree:\s+(\d+) kB", 30)
    if not m:
        raise RuntimeError("no MemFree from the Linux guest:\n" + g.tail())
    return -int(m.group(1)) * 1024


def time_wait(system, g):
    """Connections the guest holds in TIME_WAIT: Pollux's `stats` (tw), Linux's sockstat."""
    if system == "pollux":
        return pollux_stats(g)["tw"]
    g.send("cat /proc/net/sockstat")
    m = g.expect(r"TCP: inuse \d+ orphan \d+ tw (\d+)", 30)
    if not m:
        raise RuntimeError("no sockstat from the Linux guest:\n" + g.tail())
    return int(m.group(1))


def pollux_stats(g):
    """`stats`'s columns (summed over the cores) by name."""
    g.send("stats")
    m = g.expect(r"core\s+budget_kb[^\n]*\n(?:\d[^\n]*\n)+", 30)
    if not m:
        raise RuntimeError("no answer to stats:\n" + g.tail())
    head, *rows = m.group(0).decode().replace("\r", "").strip("\n").split("\n")
    tot = {}
    for line in rows:
        for k, v in zip(head.split(), line.split()):
            if re.fullmatch(r"-?\d+", v):
                tot[k] = tot.get(k, 0) + int(v)
    return tot


def idle_memory(system, g, ip):
    """Memory per idle keep-alive connection: IDLE_CONNS connections each answered once and held
    (hold.py in the namespace), the guest's memory before and after."""
    before = guest_memory(system, g)
    p = subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, os.path.join(HERE, "hold.py"), ip,
                          str(IDLE_CONNS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         **OWN_GROUP)
    try:
        line = p.stdout.readline()
        m = re.match(r"held (\d+)", line)
        if not m or int(m.group(1)) < IDLE_CONNS * 0.99:
            raise RuntimeError(f"hold.py: {line.strip() or 'nothing'}")
        time.sleep(2)
        after = guest_memory(system, g)
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait(60)
        return (after - before) / int(m.group(1))
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def sustained(system, g, base):
    """A new connection per request for SUSTAIN_S seconds without a pause, measured in steps of
    SUSTAIN_STEP: the whole run's rate, its last step against its first (below 1: it declined), and
    the connections in TIME_WAIT the server holds at the end; and the socket errors of its runs."""
    rates, errors = [], 0
    for _ in range(SUSTAIN_S // SUSTAIN_STEP):
        r = wrk(base + "/", SUSTAIN_STEP, CONNS, ["-H", "Connection: close"])
        if r["non2xx"] or r["rps"] <= 0:
            raise RuntimeError(f"wrk {base}: {r}")
        rates.append(r["rps"])
        errors += r["errors"]
    return statistics.mean(rates), rates[-1] / rates[0], time_wait(system, g), errors


def soak(base):
    """SOAK_S seconds of keep-alive load with connection churn beside it (SOAK_CHURN connections,
    one per request): the keep-alive rate of the first and of the last SOAK_STEP seconds, and the
    socket errors of the keep-alive runs."""
    churn = subprocess.Popen(["ip", "netns", "exec", NS, "timeout", "-s", "KILL", str(SOAK_S + 30), "wrk", "-t1",
                              f"-c{SOAK_CHURN}", f"-d{SOAK_S + 5}s", "--timeout", "2s", "-H", "Connection: close",
                              base + "/"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             **OWN_GROUP)
    try:
        time.sleep(2)
        runs = [wrk(base + "/", SOAK_STEP, CONNS) for _ in range(SOAK_S // SOAK_STEP)]
    finally:
        if churn.poll() is None:
            os.killpg(churn.pid, signal.SIGKILL)
        churn.wait()
    return runs[0]["rps"], runs[-1]["rps"], sum(r["errors"] for r in runs)


def http_set(system, base, path16k, workloads, what, g=None, base6=None):
    """The HTTP workloads of one boot (base is http://IP, base6 http://[IPv6] or None when the guest
    has no IPv6 address: ka64v6 then fails, noted), in this order: the connection-per-request
    runs after the others, as they leave thousands of connections in TIME_WAIT on the server; the
    many connections after them, so that its ports do not crowd the runs before; the soak last. A
    workload that fails is noted and the next one runs."""
    lat = f"http-latency-64B-{LAT_CONNS}conn-{LAT_DELAY_MS}ms"
    for w in ("ka64", "ka64v6", "ka16k", "st16k", "st1m", "lat", "idle", "close", "close2", "close32", "closeab",
              "sustain", "ka10k", "soak"):
        if w not in workloads or (WORKLOADS and not re.search(WORKLOADS, w)):
            continue
        try:
            if w == "ka64":
                record_rps("http-keepalive-64B", system, http_run(base + "/"))
            elif w == "ka64v6":
                # The same run as ka64's, to the guest's IPv6 address (issue 16).
                if not base6:
                    raise RuntimeError("the guest has no global IPv6 address (no `pollux: ip6=` in the prefix)")
                record_rps("http-keepalive-64B-ipv6", system, http_run(base6 + "/"))
            elif w == "ka16k":
                record_rps("http-keepalive-16KiB", system, http_run(base + path16k))
            elif w in ("st16k", "st1m"):
                # Files of a site (issue 19): Pollux's packed from the bench's tree, nginx's from disk.
                name = {"st16k": ("16k.bin", "16KiB"), "st1m": ("1m.bin", "1MiB")}[w]
                record_rps(f"http-static-file-{name[1]}", system, http_run(f"{base}/{name[0]}"))
            elif w == "lat":
                r = http_run(base + "/", latency=True)
                record(lat, "p50 ms", system, r["p50"], r["errors"])
                record(lat, "p99 ms", system, r["p99"], r["errors"])
                record(lat, "req/s at that load", system, r["rps"], r["errors"])
            elif w == "close":
                record_rps("http-conn-per-request-64B", system, http_run(base + "/", close=True))
            elif w == "close32":
                # The same with ab's 32 clients (issue 17: which client behaviour each row measures).
                record_rps("http-conn-per-request-64B-32conn", system, http_run(base + "/", close=True, conns=32))
            elif w == "closeab":
                record_rps("http-conn-per-request-64B-ab-32conn", system, ab_run(base + "/", 32))
            elif w == "ka10k":
                # Many keep-alive clients at once (issue 18): the same requests over 10,000
                # connections.
                record_rps(f"http-keepalive-64B-{MANY_CONNS}conn", system, http_run(base + "/", conns=MANY_CONNS))
            elif w == "idle":
                record(f"http-idle-keepalive-{IDLE_CONNS}conn", "bytes per connection", system,
                       idle_memory(system, g, base.split("//")[1]))
            elif w == "sustain":
                wl = f"http-conn-per-request-64B-{SUSTAIN_S}s"
                rate, trend, tw, errors = sustained(system, g, base)
                record(wl, "req/s", system, rate, errors)
                record(wl, f"last {SUSTAIN_STEP} s / first", system, trend, errors)
                record(wl, "TIME_WAIT held at the end", system, tw)
            elif w == "soak":
                wl = f"soak-keepalive-with-churn-{SOAK_S}s"
                first, last, errors = soak(base)
                record(wl, f"first {SOAK_STEP} s req/s", system, first, errors)
                record(wl, f"last {SOAK_STEP} s req/s", system, last, errors)
                record(wl, "last / first", system, last / first, errors)
            else:
                # The same again at once: the client's kernel hands out the ports of the run before,
                # whose connections the server still holds in TIME_WAIT.
                record_rps("http-conn-per-request-64B-ports-reused", system,
                           http_run(base + "/", close=True, warmup=False))
        except Exception as e:  # noqa: BLE001 - noted, the other workloads go on
            log(f"{what}: {w} FAILED: {e}")
            NOTES.append(f"{what}: {w}: {str(e).splitlines()[0]}")


BODIES = {}


def capture_body(name, url, size):
    b = fetch(url)
    if len(b) != size:
        raise RuntimeError(f"Pollux's / is {len(b)} bytes, expected {size}")
    if name in BODIES and BODIES[name] != b:
        raise RuntimeError(f"Pollux's / changed between runs ({name})")
    BODIES[name] = b


SITE_FILES = ("16k.bin", "1m.bin", "20m.bin")
# Long paths (issue 19): QEMU's filter-buffer on the guest's netdev holds every frame, both ways,
# until the next release, every interval ms: about 30 and 100 ms round trips (measured with ping).
DELAYS_MS = (20, 50)
LOSS_PCT = 1            # and the first with this share of the frames lost each way (nftables)


def site_check(base, who):
    """Both serve the bench's site files byte for byte (scripts/bench/mksite.py)."""
    for n in SITE_FILES:
        if fetch(f"{base}/{n}") != open(os.path.join(OUT, "site", n), "rb").read():
            raise RuntimeError(f"{who}'s /{n} differs from the bench's site")


def make_initrd():
    """base archive + the site's files + the bodies captured from Pollux so far (nginx serves the
    same bytes). The long-path sessions need the site's files only, so BENCH_ONLY="long path"
    runs without the sessions that capture the bodies; LINUX["bodies"] says which it holds."""
    sys.path.insert(0, HERE)
    import initramfs
    body = os.path.join(OUT, "linux", "bodies.cpio")
    site = os.path.join(OUT, "site")
    files = {f"srv/www/{n}": open(os.path.join(site, n), "rb").read() for n in SITE_FILES}
    bodies = {f"srv/www/{k}": BODIES[k] for k in ("64", "16k") if k in BODIES}
    initramfs.body_cpio(body, {**bodies, **files})
    LINUX["bodies"] = {k for k in ("64", "16k") if k in BODIES}
    with open(LINUX["initrd"], "wb") as f:
        for part in (os.path.join(OUT, "linux", "base.cpio"), body):
            with open(part, "rb") as p:
                f.write(p.read())


def session(fn, what):
    """One boot: errors are reported and the bench goes on (a missing value shows as '-')."""
    t = time.time()
    try:
        fn()
        log(f"{what}: done in {time.time() - t:.0f} s")
    except Exception as e:  # noqa: BLE001 - reported, the rest of the bench goes on
        log(f"{what}: FAILED: {e}")
        NOTES.append(f"{what}: {str(e).splitlines()[0]}")


def run_round(net, rnd):
    V = VCPUS

    def pollux_http64():
        g, ip, ip6 = boot_pollux(net, "pollux-64", V, V, f"r{rnd}-pollux-64", v6=True)
        try:
            capture_body("64", f"http://{ip}/", 64)
            site_check(f"http://{ip}", "Pollux")
            base6 = f"http://[{ip6}]" if ip6 else None
            if base6 and fetch(base6 + "/") != BODIES["64"]:
                raise RuntimeError(f"Pollux's / over IPv6 ({ip6}) differs from its / over IPv4")
            http_set("pollux", f"http://{ip}", None, ("ka64", "ka64v6", "st16k", "st1m", "lat", "idle", "close", "close2",
                                                      "close32", "closeab", "sustain", "ka10k")
                     + (("soak",) if rnd == 1 and SOAK_S else ()), f"round {rnd} pollux", g, base6)
        finally:
            g.close()

    def pollux_http16k():
        g, ip = boot_pollux(net, "pollux-16k", V, V, f"r{rnd}-pollux-16k")
        try:
            capture_body("16k", f"http://{ip}/", 16384)
            http_set("pollux", f"http://{ip}", "/", ("ka16k",), f"round {rnd} pollux")
        finally:
            g.close()

    def pollux_echo():
        g, ip = boot_pollux(net, "pollux-echo", V, V, f"r{rnd}-pollux-echo")
        try:
            r = udp_run(ip)
            record("udp-echo-64B", "pps", "pollux", r["pps"])
            record("udp-echo-64B-vs-testpmd", "pps", "pollux", r["pps"])
            r = udp_rtt(ip)
            record_rtt("udp-rtt-64B", "pollux", r)
            record_rtt("udp-rtt-64B-vs-testpmd", "pollux", r)
        finally:
            g.close()

    def pollux_echo_also(name):
        g, ip = boot_pollux(net, name, V, V, f"r{rnd}-{name}")
        try:
            r = udp_run(ip)
            log(f"{name}: UDP echo 64 B {r['pps']} pps (BENCH_ECHO_ALSO, not in the table)")
            with open(os.path.join(OUT, "results-echo-also.tsv"), "a") as f:
                f.write(f"{rnd}\t{name}\t{r['pps']}\t{os.getloadavg()[0]:.2f}\n")
        finally:
            g.close()

    def linux_nginx(system):
        if not os.path.exists(LINUX["initrd"]) or LINUX.get("bodies") != {"64", "16k"}:
            make_initrd()
        g, ip = boot_linux(net, "nginx", V, V, f"r{rnd}-{system}", system=system)
        try:
            for base in (f"http://{ip}", f"http://[{LINUX_IP6}]"):
                for path, name in (("/", "64"), ("/16k", "16k")):
                    if fetch(f"{base}{path}") != BODIES[name]:
                        raise RuntimeError(f"nginx's {base}{path} differs from Pollux's body")
            site_check(f"http://{ip}", "nginx")
            r = udp_run(ip)
            record("udp-echo-64B", "pps", system, r["pps"])
            record_rtt("udp-rtt-64B", system, udp_rtt(ip))
            http_set(system, f"http://{ip}", "/16k", ("ka64", "ka64v6", "ka16k", "st16k", "st1m", "lat", "idle", "close",
                                                      "close2", "close32", "closeab", "sustain", "ka10k") + (("soak",) if rnd == 1 and SOAK_S else ()),
                     f"round {rnd} {system}", g, f"http://[{LINUX_IP6}]")
        finally:
            g.close()

    def long_path(system, interval, loss=0):
        delay = ["-object", f"filter-buffer,id=delay,netdev=n0,queue=all,interval={interval * 1000}"]
        tag = f"r{rnd}-{system}-delay{interval}ms" + (f"-loss{loss}pct" if loss else "")
        label = f"delay{interval}ms" + (f"-loss{loss}pct" if loss else "")
        if system == "pollux":
            g, ip = boot_pollux(net, "pollux-64", V, V, tag, delay)
        else:
            if not os.path.exists(LINUX["initrd"]):
                make_initrd()
            g, ip = boot_linux(net, "nginx", V, V, tag, delay=delay, system=system)
        try:
            r = ns("ping", "-c", "10", "-i", "0.2", ip)
            m = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
            if not m:
                raise RuntimeError(f"no ping through the delay: {r.stdout[-200:]}")
            if not loss:
                record(f"path-delay-{interval}ms", "ping round trip ms", system, float(m.group(1)))
            else:
                # loss% of the frames each way dropped at random on the tap (nftables).
                rules = (f"table inet loss {{ chain i {{ type filter hook input priority 0; iifname \"tap0\" numgen "
                         f"random mod 100 < {loss} drop; }}; chain o {{ type filter hook output priority 0; oifname "
                         f"\"tap0\" numgen random mod 100 < {loss} drop; }}; }}")
                r = ns("nft", rules)
                if r.returncode:
                    raise RuntimeError(f"nft: {r.stderr.strip()}")
            for name, path in (("1MiB", "/1m.bin"), ("20MB", "/20m.bin")):
                times = []
                for _ in range(3):
                    r = ns("curl", "-s", "-o", "/dev/null", "-m", "120", "-w", "%{http_code} %{time_total}",
                           f"http://{ip}{path}", timeout=130)
                    f = r.stdout.split()
                    if len(f) != 2 or f[0] != "200":
                        raise RuntimeError(f"{path}: {r.stdout} {r.stderr}")
                    times.append(float(f[1]))
                record(f"http-file-{name}-{label}", "s to download", system, statistics.median(times))
            if loss and system == "pollux":
                # How Pollux recovered (lwIP patch 0009): its traffic table's SACK columns, in the log.
                g.send("stats")
                m = g.expect(r"core\s+q\s+rx_pkts[^\n]*\n(?:\d[^\n]*\n)+", 30)
                if m:
                    head, *rows = m.group(0).decode().replace("\r", "").strip("\n").split("\n")
                    cols = {k: sum(int(r.split()[i]) for r in rows) for i, k in enumerate(head.split())
                            if k.startswith("sack_") or k == "rto"}
                    log(f"{tag}: Pollux's SACK recoveries, holes retransmitted and timeouts: {cols}")
        finally:
            if loss:
                ns("nft", "delete", "table", "inet", "loss")
            g.close()

    def testpmd():
        g, ip = boot_linux(net, "testpmd", V, V, f"r{rnd}-testpmd")
        try:
            r = udp_run(ip)
            record("udp-echo-64B-vs-testpmd", "pps", "linux", r["pps"])
            record_rtt("udp-rtt-64B-vs-testpmd", "linux", udp_rtt(ip))
        finally:
            g.close()

    def steer(system, queues):
        tag = f"r{rnd}-{system}-{STEER_VCPUS}c-{queues}q"
        wl = f"http-keepalive-64B-{STEER_VCPUS}vCPU-{queues}queue"
        if system == "pollux":
            g, ip = boot_pollux(net, "pollux-64", STEER_VCPUS, queues, tag)
        else:
            g, ip = boot_linux(net, "nginx", STEER_VCPUS, queues, tag, rps=1 if queues == 1 else 0, system=system)
        try:
            record_rps(wl, system, http_run(f"http://{ip}/"))
        finally:
            g.close()

    # Every Linux configuration right after Pollux's session of the same workloads (testpmd polls
    # the device itself: one configuration is enough for it).
    plan = [(pollux_http64, "pollux http 64B"), (pollux_http16k, "pollux http 16KiB")]
    plan += [(lambda s=s: linux_nginx(s), f"{s} nginx+udpecho") for s in LINUXES]
    plan += [(pollux_echo, "pollux udp echo")]
    plan += [(lambda n=n: pollux_echo_also(n), f"pollux udp echo {n}") for n in os.environ.get("BENCH_ECHO_ALSO", "").split()]
    plan += [(testpmd, "linux testpmd")]
    for d in DELAYS_MS:
        plan += [(lambda d=d: long_path("pollux", d), f"pollux long path {d} ms")]
        plan += [(lambda d=d, s=s: long_path(s, d), f"{s} long path {d} ms") for s in LINUXES]
    plan += [(lambda: long_path("pollux", DELAYS_MS[0], LOSS_PCT), f"pollux long path {DELAYS_MS[0]} ms {LOSS_PCT}% loss")]
    plan += [(lambda s=s: long_path(s, DELAYS_MS[0], LOSS_PCT), f"{s} long path {DELAYS_MS[0]} ms {LOSS_PCT}% loss")
             for s in LINUXES]
    if STEER:
        for q in (1, STEER_VCPUS):
            what = "1 queue (software steering)" if q == 1 else f"{q} queues"
            plan += [(lambda q=q: steer("pollux", q), f"pollux {STEER_VCPUS} vCPU {what}")]
            what = "1 queue (RPS/RFS)" if q == 1 else f"{q} queues"
            plan += [(lambda q=q, s=s: steer(s, q), f"{s} {STEER_VCPUS} vCPU {what}") for s in LINUXES]
    only = os.environ.get("BENCH_ONLY")     # development: run only the sessions whose name has this
    for fn, what in plan:
        if only and not re.search(only, what):
            continue
        session(fn, f"round {rnd}/{ROUNDS}: {what}")


def run_facts(started, qemu_version):
    """What the table says of the run, recorded at the top of results.tsv (table.py): when, which
    commit (and whether the tree had uncommitted changes), on what host and QEMU, how long."""
    def git(*a):
        r = subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True)
        return r.stdout.rstrip("\n") if r.returncode == 0 else None
    commit = git("rev-parse", "HEAD") or "unknown (not a git tree)"
    changed = git("status", "--porcelain", "--untracked-files=no")
    if changed is None:
        dirty = "unknown"
    elif not changed:
        dirty = "no"
    else:
        paths = [l[3:] for l in changed.splitlines()]
        dirty = "yes: " + ", ".join(paths[:8]) + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    facts = [("date", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))), ("commit", commit.strip()),
             ("dirty", dirty), ("host", os.uname().nodename), ("cores", os.cpu_count()), ("cpu", cpu),
             ("qemu", qemu_version), ("accel", "TCG"), ("kernel", os.path.basename(LINUX["kernel"])[len("vmlinuz-"):]),
             ("vcpus", VCPUS), ("mem", MEM), ("rounds", ROUNDS), ("quick", "yes" if QUICK else "no"),
             ("seconds", f"{SECONDS:g}"), ("warmup", f"{WARMUP:g}"), ("soak_s", SOAK_S),
             ("steer", "yes" if STEER else "no"), ("only", os.environ.get("BENCH_ONLY", "")),
             ("workloads", WORKLOADS or "")]
    facts += [(f"system {s}", LINUX_DESCRIPTION[s]) for s in LINUXES]
    return facts


def report(started, facts):
    rows = [{"workload": wl, "metric": m, "values": RESULTS[(wl, m)], "errors": ERRORS[(wl, m)]} for wl, m in ROWS]
    # Another load on the host changes everything (a polling guest most): say how busy it was.
    facts = facts + [("duration_s", f"{time.time() - started:.0f}"),
                     ("load", f"{LOAD[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")]
    tsv = os.path.join(OUT, "results.tsv")
    table.write_tsv(tsv, facts, rows, notes=NOTES)
    with open(os.path.join(OUT, "results-runs.tsv"), "w") as f:
        f.write("workload\tmetric\tsystem\tvalues\n")
        for r in rows:
            for s in table.SYSTEMS:
                f.write(f"{r['workload']}\t{r['metric']}\t{s}\t{','.join(str(round(v, 3)) for v in r['values'][s])}\n")
    md = table.table_of(tsv)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(md)
    print()
    print(md)
    steer1 = RESULTS.get((f"http-keepalive-64B-{STEER_VCPUS}vCPU-1queue", "req/s"), {}).get("pollux")
    steern = RESULTS.get((f"http-keepalive-64B-{STEER_VCPUS}vCPU-{STEER_VCPUS}queue", "req/s"), {}).get("pollux")
    if steer1 and steern:
        print(f"pollux {STEER_VCPUS} vCPU, one queue with software steering / one queue per core: "
              f"{statistics.median(steer1) / statistics.median(steern):.2f}")
    plot(tsv)
    print(f"results: {tsv}, {os.path.join(OUT, 'results.md')} (README: make bench-readme), "
          f"{os.path.join(OUT, 'results.png')}, logs in {LOGS}")


def plot(tsv):
    """Two panels, each labelled with its direction: rates (higher is better) and latencies, bytes and
    times (lower is better); in each, a pair of bars per row: Pollux over each Linux configuration.
    The path's ping is a condition of the run, not a result: not plotted."""
    _, _, systems, rows = table.read_tsv(tsv)
    linuxes = systems[1:]
    data = {True: os.path.join(OUT, "results.lower.dat"), False: os.path.join(OUT, "results.higher.dat")}
    counts = {True: 0, False: 0}
    with open(data[True], "w") as lo, open(data[False], "w") as hi:
        for r in rows:
            p = r["med"]["pollux"]
            ratios = [p / r["med"][s] if p is not None and r["med"][s] else None for s in linuxes]
            if "ping" in r["metric"] or all(x is None for x in ratios):
                continue
            low = table.lower_is_better(r["metric"])
            cells = "\t".join("NaN" if x is None else f"{x:.4g}" for x in ratios)
            (lo if low else hi).write(f"\"{r['workload']}\\n{r['metric']}\"\t{cells}\n")
            counts[low] += 1
    panels = [(False, "higher is better: >1, Pollux ahead"), (True, "lower is better: <1, Pollux ahead")]
    panels = [(low, title) for low, title in panels if counts[low]]
    if not panels:
        return
    n = len(linuxes)
    gp = f"""set terminal pngcairo size 1400,{560 * len(panels)} font ",10"
set output "{OUT}/results.png"
set multiplot layout {len(panels)},1 title "Pollux / Linux guest, same QEMU TCG VM ({VCPUS} vCPU): ratio of medians, one bar per Linux configuration"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.6
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set grid ytics
set xtics rotate by -35 left noenhanced
set ylabel "pollux / linux"
set bmargin 9
set key top right noenhanced
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black"
"""
    for low, title in panels:
        bars = ", ".join(f'"{data[low]}" using {i + 2}' + (":xtic(1)" if i == 0 else "")
                         + f' title "Pollux / {table.LABELS.get(s, s)}"' for i, s in enumerate(linuxes))
        # Each bar's value above it: bar i of row k sits at k + (i - (n - 1) / 2) / (n + 1).
        labels = ", ".join(f'"{data[low]}" using ($0 + {(i - (n - 1) / 2) / (n + 1):.4f}):{i + 2}:'
                           f'(sprintf("%.2f", ${i + 2})) with labels offset 0,0.7 font ",8" notitle'
                           for i in range(n))
        gp += f'set title "{title}"\nplot {bars}, {labels}\n'
    gp += "unset multiplot\n"
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode:
        log("gnuplot failed: " + r.stderr[-500:])


LOAD = []


def main():
    started = time.time()
    # wrk's 10,000 connections need as many files: the soft limit up to the hard one.
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    LOAD.append(os.getloadavg()[0])
    os.makedirs(LOGS, exist_ok=True)
    os.makedirs(TOOLS, exist_ok=True)
    os.makedirs(os.path.join(OUT, "linux"), exist_ok=True)
    sysroot = os.path.join(OUT, "sysroot")
    sh("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", f"{TOOLS}/udprate", f"{HERE}/udprate.c")
    sh("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", f"{TOOLS}/udprtt", f"{HERE}/udprtt.c")
    sh("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-pthread", "-o", f"{TOOLS}/udpecho",
       f"{HERE}/udpecho.c")
    sh(sys.executable, f"{HERE}/initramfs.py", sysroot, f"{TOOLS}/udpecho", os.path.join(OUT, "linux", "base.cpio"),
       timeout=300)
    kernels = sorted(f for f in os.listdir(os.path.join(sysroot, "boot")) if f.startswith("vmlinuz-"))
    LINUX["kernel"] = os.path.join(sysroot, "boot", kernels[-1])
    LINUX["initrd"] = os.path.join(OUT, "linux", "initrd.cpio")
    LINUX["disk"] = os.path.join(OUT, "linux", "empty.img")   # qemu.sh wants a disk; Linux ignores it
    with open(LINUX["disk"], "wb") as f:
        f.truncate(1 << 20)
    if os.path.exists(LINUX["initrd"]):
        os.unlink(LINUX["initrd"])
    also = os.path.join(OUT, "results-echo-also.tsv")
    if os.path.exists(also):
        os.unlink(also)
    qemu_version = sh("qemu-system-x86_64", "--version").stdout.splitlines()[0]
    log(f"{ROUNDS} round(s), {VCPUS} vCPU, {SECONDS:g} s per run; Linux {os.path.basename(LINUX['kernel'])}; "
        f"{qemu_version}")
    facts = run_facts(started, qemu_version)
    net = Net()
    try:
        for rnd in range(1, ROUNDS + 1):
            run_round(net, rnd)
    finally:
        for g in list(Console.live):
            g.close()
        net.close()
    report(started, facts)


def on_signal(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("bench: interrupted; every guest, client, dnsmasq and the namespace were ended")
