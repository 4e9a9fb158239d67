"""Set-up shared by the network tests (net.py, hostile.py): a network namespace this process
creates, holding a (multi-queue) tap device with 198.18.0.1/24 and fd00:198:18::1/64, and dnsmasq as
the DHCP server and IPv6 router (router advertisements of the /64, for SLAAC),
and Pollux booted on the tap under QEMU with its console driven through tests/qemu/guest.py.
Addresses come from 198.18.0.0/15; nothing is routed out of the namespace. Everything started here
(QEMU, dnsmasq, helper processes, the namespace) is ended when the `with` block is left, also on
SIGINT, SIGTERM (timeout(1)) or SIGHUP.
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from guest import QEMU_SH, Guest  # noqa: E402

NS = f"pollux{os.getpid()}"
HOST_IP = "198.18.0.1"
PREFIX6 = "fd00:198:18::"       # a unique local /64: dnsmasq advertises it, the guest takes an address by SLAAC
HOST_IP6 = PREFIX6 + "1"
DHCP6_RANGE = (PREFIX6 + "100", PREFIX6 + "1ff")       # Testbed(dhcp6=True): DHCPv6 leases from here
MGMT_HOST_IP = "198.19.0.1"     # Testbed(mgmt=True): the tap's address on config/mgmt.h's management subnet
MGMT_HOST_IP6 = "fd00:198:19::1"        # and on its management /64


class Results:
    """PASS/FAIL lines tagged with the configuration, counted for the closing summary line."""

    def __init__(self, tag):
        self.tag = tag
        self.passed = self.failed = 0

    def __call__(self, ok, name, detail):
        self.passed += bool(ok)
        self.failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} [{self.tag}] {name}: {detail}", flush=True)

    def summary(self, prefix):
        print(f"{prefix}-summary: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def ns(*cmd, **kw):
    return sh("ip", "netns", "exec", NS, *cmd, **kw)


def url(ip, path="/"):
    """The HTTP URL of path on ip, of either family."""
    return f"http://[{ip}]{path}" if ":" in ip else f"http://{ip}{path}"


def family(ip):
    """The socket family of the address ip."""
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def setns(name=None):
    """Move this process into the namespace (NS, or name) so sockets below are made there."""
    fd = os.open(f"/run/netns/{name or NS}", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:   # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


def monitor(path, cmd):
    """One command to QEMU's human monitor."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.settimeout(2)
    c.sendall(cmd.encode() + b"\n")
    time.sleep(0.5)
    c.close()


def _leave(signum, frame):
    raise SystemExit(128 + signum)      # unwinds through the `with` block, which cleans up


class Testbed:
    """with Testbed(arch, image, cores, queues, log) as tb: tb.g is the guest (QEMU on the tap),
    tb.mon its monitor socket. static: no DHCP server (the image has a static address). nic: "virtio"
    or "igb" (QEMU's 82576, which offers 16 queue pairs and spreads frames itself; queues is then
    what the driver takes, one per core). dhcp6: IPv6 addresses by stateful DHCPv6 from DHCP6_RANGE
    (router advertisements with the M flag, as EC2 sends) instead of SLAAC. router_lifetime: seconds
    the advertisements name this namespace the default router for (dnsmasq's --ra-param; without it
    dnsmasq says 0 where the namespace has no IPv6 default route, and the guest then reaches only the
    /64). mgmt: the tap has MGMT_HOST_IP/24 and MGMT_HOST_IP6/64 too, on the subnets of config/mgmt.h's
    management addresses.
    tb.netns(): a further namespace, deleted with the first."""

    def __init__(self, arch, image, cores, queues, log, static=False, mem="1G", nic="virtio", dhcp6=False,
                 router_lifetime=None, mgmt=False):
        self.arch, self.image, self.cores, self.queues = arch, image, cores, queues
        self.log, self.static, self.mem, self.nic, self.dhcp6 = log, static, mem, nic, dhcp6
        self.router_lifetime = router_lifetime
        self.mgmt = mgmt
        self.extra_ns = []
        self.prefix = {"virtio": "vnet", "igb": "igb"}[nic]     # the driver's log prefix
        self.g = self.dns = None
        self.mon = f"/tmp/{NS}.mon"
        self.procs = []

    def __enter__(self):
        for s in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, _leave)
        sh("ip", "netns", "add", NS)
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        ns("ip", "link", "set", "lo", "up")
        ns("ip", "tuntap", "add", "dev", "tap0", "mode", "tap", *(["multi_queue"] if self.queues > 1 and self.nic == "virtio" else []))
        ns("ip", "addr", "add", f"{HOST_IP}/24", "dev", "tap0")
        if self.mgmt:
            ns("ip", "addr", "add", f"{MGMT_HOST_IP}/24", "dev", "tap0")
        ns("ip", "-6", "addr", "add", f"{HOST_IP6}/64", "dev", "tap0", "nodad")
        if self.mgmt:
            ns("ip", "-6", "addr", "add", f"{MGMT_HOST_IP6}/64", "dev", "tap0", "nodad")
        ns("ip", "link", "set", "tap0", "up")
        lease = self.leases = f"/tmp/{NS}.leases"
        # IPv4 by DHCP unless the image is static; IPv6 by router advertisements (SLAAC), or with
        # dhcp6 by DHCPv6 (a plain range: dnsmasq's advertisements then carry the M flag).
        # A DHCPv6 lease of 2 minutes, dnsmasq's shortest: T1 comes after 1, so a run sees a Renew.
        v6 = f"{DHCP6_RANGE[0]},{DHCP6_RANGE[1]},64,2m" if self.dhcp6 else f"{PREFIX6},ra-only,64,1h"
        self.dns = subprocess.Popen(
            ["ip", "netns", "exec", NS, "dnsmasq", "--no-daemon", "--interface=tap0", "--bind-interfaces",
             "--except-interface=lo", "--port=0", "--no-resolv", "--no-hosts", f"--dhcp-leasefile={lease}",
             "--enable-ra", f"--dhcp-range={v6}"]
            + ([f"--ra-param=tap0,10,{self.router_lifetime}"] if self.router_lifetime else [])
            + ([] if self.static else ["--dhcp-range=198.18.0.50,198.18.0.99,255.255.255.0,1h"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        q = self.queues
        if self.nic == "igb":
            # QEMU's igb computes RSS itself over its queues: one tap queue carries every frame.
            net = ["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", "-device", "igb,netdev=n0"]
        else:
            net = ["-netdev", f"tap,id=n0,ifname=tap0,script=no,downscript=no,queues={q}",
                   "-device", "virtio-net-pci,netdev=n0" + (f",mq=on,rss=on,vectors={2 * q + 2}" if q > 1 else "")]
        net += ["-monitor", f"unix:{self.mon},server,nowait"]
        self.g = Guest(["ip", "netns", "exec", NS, QEMU_SH, self.arch, self.image, str(self.cores), self.mem] + net,
                       self.log)

    def netns(self, suffix):
        """A further namespace NS+suffix (its name returned), deleted on exit as the first is."""
        name = NS + suffix
        sh("ip", "netns", "add", name)
        self.extra_ns.append(name)
        return name

    def spawn(self, *cmd, **kw):
        """A helper process (a flood, a client) in the namespace, ended at the latest on exit."""
        p = subprocess.Popen(["ip", "netns", "exec", NS, *cmd], **kw)
        self.procs.append(p)
        return p

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if self.g:
            self.g.close()
        if self.dns:
            self.dns.kill()
            self.dns.wait()
        sh("ip", "netns", "del", NS, check=False)
        for name in self.extra_ns:
            sh("ip", "netns", "del", name, check=False)
        for f in (self.mon, f"/tmp/{NS}.leases"):
            if os.path.exists(f):
                os.unlink(f)
        return False


def boot(tb, result, after_ready=None):
    """Wait for the NIC, the ready line and the address (DHCP or static), each checked as net.py
    always has; after_ready() runs between the ready line and the address. Returns the guest's
    address, or None (after printing why) when it has none."""
    g = tb.g
    m, out = g.expect(r"%s0: [^\n]*link (up|down)[\s\S]*?%s0: live, rss (on|off)" % (tb.prefix, tb.prefix), 180)
    want = "on" if tb.queues > 1 or tb.nic == "igb" else "off"        # igb hashes with one queue too
    result(bool(m) and m.group(2).decode() == want and m.group(1) == b"up", "rss",
           f"link {m.group(1).decode() if m else '?'}, RSS {m.group(2).decode() if m else '?'} with {tb.queues} "
           f"queue pair(s) (expected up, {want})")
    m, out = g.expect(r"pollux: ready arch=\S+ cores=(\d+) ", 180)    # the space: all its digits have come
    result(bool(m) and int(m.group(1)) == tb.cores, "ready",
           f"booted with a {tb.nic} NIC, cores={m.group(1).decode() if m else '?'}")
    if not m:
        print(out[-2000:])
        return None
    if after_ready:
        after_ready()
    m, out = g.expect(r"pollux: ip=(\d+\.\d+\.\d+\.\d+)\r?\n", 60)
    if tb.static:
        result(bool(m) and m.group(1) == b"198.18.0.2", "static-ip",
               f"every core serves the static address: {m.group(1).decode() if m else out[-300:]}")
    else:
        result(bool(m), "dhcp",
               f"lwIP's DHCP client got an address from dnsmasq: {m.group(1).decode() if m else out[-300:]}")
    return m.group(1).decode() if m else None


def console_find(tb, rx, timeout):
    """The first group of rx in the whole console log, reading more of the console (into the log)
    until it is there or timeout seconds have passed: (the group or None, the console's last output)."""
    out, end = "", time.time() + timeout
    while True:
        with open(tb.log, "rb") as f:
            m = re.search(rx.encode(), f.read())
        if m:
            return m.group(1).decode(), out
        if time.time() > end:
            return None, out
        _, out = tb.g.expect(rx, 0.5)


def boot6(tb, result, timeout=60):
    """After boot: the guest's global IPv6 address, taken by SLAAC from dnsmasq's router
    advertisements (with dhcp6: leased by DHCPv6 from DHCP6_RANGE) and printed once every core uses
    it. None (after printing why) when it has none."""
    if tb.dhcp6:        # ::100 to ::1ff: "1" and two more hex digits, the whole address
        rx = r"pollux: ip6=(%s1[0-9a-f]{2})\r?\n" % PREFIX6
    else:
        rx = r"pollux: ip6=(%s[0-9a-f:]+)\r?\n" % PREFIX6.rstrip(":")
    # The line may have come before the IPv4 address or while other checks read the console.
    ip6, out = console_find(tb, rx, timeout)
    if tb.dhcp6:
        result(bool(ip6), "dhcp6", "core 0 leased an address of the DHCPv6 range (Solicit, Advertise, Request, "
               "Reply), printed once every core had it: " + (ip6 or out[-300:]))
    else:
        result(bool(ip6), "slaac", "the guest configured a global IPv6 address from the router advertisement: "
               + (ip6 or out[-300:]))
    return ip6
