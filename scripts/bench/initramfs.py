#!/usr/bin/env python3
"""Assemble the Linux guest's initramfs for `make bench` from Debian packages extracted by
scripts/bench/deps.sh (SYSROOT): busybox-static, nginx (nginx-light) and dpdk-testpmd with every
shared library they load (found with ldd; libraries not in SYSROOT come from this host, the same
Debian release), the DPDK plugins for virtio-net, the cloud kernel's virtio, uio modules, the
bench's UDP echo server and the guest's /init (scripts/bench/init.sh). Bodies are added later as a
second archive (body_cpio): Linux unpacks concatenated archives in order.

    initramfs.py SYSROOT UDPECHO OUT.cpio
"""
import glob
import os
import re
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = ["virtio_pci", "virtio_net", "uio_pci_generic"]
DPDK_PLUGINS = ["librte_bus_pci.so.23", "librte_bus_vdev.so.23", "librte_net_virtio.so.23",
                "librte_mempool_ring.so.23"]
PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"


class Cpio:
    """A newc archive written in memory; directories are created as paths are added."""

    def __init__(self):
        self.out = bytearray()
        self.seen = set()
        self.ino = 1000

    def _entry(self, name, mode, data=b""):
        self.ino += 1
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        self.out += hdr.encode() + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, path):
        path = path.strip("/")
        if not path or path in self.seen:
            return
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path, stat.S_IFDIR | 0o755)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        if path in self.seen:
            return
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path, stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        if path in self.seen:
            return
        self.dir(os.path.dirname(path))
        self.seen.add(path)
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def trailer(self):
        self._entry("TRAILER!!!", 0)
        self.out += b"\0" * (-len(self.out) % 512)
        return bytes(self.out)


def host_path(sysroot, guest):
    """Where a guest path's content comes from: SYSROOT if the packages have it, else this host."""
    p = os.path.join(sysroot, guest.lstrip("/"))
    return p if os.path.lexists(p) else guest


def add_path(cpio, sysroot, guest):
    """Add guest path (a file or a chain of symlinks, kept as symlinks) from SYSROOT or the host."""
    src = host_path(sysroot, guest)
    if os.path.islink(src):
        target = os.readlink(src)
        cpio.symlink(guest, target)
        add_path(cpio, sysroot, os.path.normpath(os.path.join(os.path.dirname(guest), target)))
    else:
        with open(src, "rb") as f:
            cpio.file(guest, f.read(), os.stat(src).st_mode & 0o777)


def libs_of(sysroot, binary):
    """Guest paths of the shared libraries a binary loads (ldd with SYSROOT's libraries first)."""
    libdirs = [os.path.join(sysroot, d) for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu",
                                                   PLUGIN_DIR.lstrip("/"))]
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(libdirs))
    out = subprocess.run(["ldd", binary], env=env, capture_output=True, text=True, check=True).stdout
    paths = []
    for line in out.splitlines():
        if "not found" in line:
            sys.exit(f"initramfs: {binary}: {line.strip()} (install the Debian package that has it)")
        m = re.search(r"(?:=> )?(/\S+) \(0x", line)
        if m:
            p = m.group(1)
            if p.startswith(sysroot):
                p = p[len(sysroot):]
            # Debian 12 is merged-/usr: the host's /lib is /usr/lib.
            paths.append(p)
    return paths


def add_binary(cpio, sysroot, guest):
    add_path(cpio, sysroot, guest)
    for lib in libs_of(sysroot, host_path(sysroot, guest)):
        add_path(cpio, sysroot, lib)


def add_modules(cpio, sysroot):
    """The kernel modules the guest loads, with a modules.dep made by depmod for just them."""
    kver = os.path.basename(glob.glob(os.path.join(sysroot, "lib/modules/*"))[0])
    mroot = os.path.join(sysroot, "lib/modules", kver)
    # modules.dep of the whole package, made once by depmod into a scratch tree.
    scratch = os.path.join(os.path.dirname(sysroot.rstrip("/")), "depmod")
    dep_file = os.path.join(scratch, "lib/modules", kver, "modules.dep")
    if not os.path.exists(dep_file):
        os.makedirs(os.path.join(scratch, "lib/modules"), exist_ok=True)
        link = os.path.join(scratch, "lib/modules", kver)
        if not os.path.exists(link):
            subprocess.run(["cp", "-a", mroot, link], check=True)
        subprocess.run(["depmod", "-b", scratch, kver], check=True)
    deps = {}
    with open(dep_file) as f:
        for line in f:
            mod, rest = line.split(":", 1)
            deps[mod] = rest.split()
    byname = {os.path.basename(m)[:-3].replace("-", "_"): m for m in deps}
    need, lines = [], []

    def want(mod):
        if mod in need:
            return
        need.append(mod)
        for d in deps[mod]:
            want(d)

    for name in MODULES:
        if name not in byname:
            sys.exit(f"initramfs: the kernel package has no module {name}")
        want(byname[name])
    for mod in need:
        add_path(cpio, sysroot, f"/lib/modules/{kver}/{mod}")
        lines.append(f"{mod}: {' '.join(deps[mod])}\n")
    cpio.file(f"lib/modules/{kver}/modules.dep", "".join(lines).encode())
    return kver


def main():
    sysroot, udpecho, out = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Cpio()
    for d in ("dev", "proc", "sys", "tmp", "run", "mnt/huge", "var/log/nginx", "var/lib/nginx/body",
              "etc/nginx", "srv/www"):
        c.dir(d)
    c.symlink("var/run", "/run")
    add_path(c, sysroot, "/bin/busybox")
    c.symlink("bin/sh", "busybox")
    add_binary(c, sysroot, "/usr/sbin/nginx")
    add_binary(c, sysroot, "/usr/bin/dpdk-testpmd")
    for p in DPDK_PLUGINS:
        add_binary(c, sysroot, f"{PLUGIN_DIR}/{p}")
    kver = add_modules(c, sysroot)
    with open(udpecho, "rb") as f:
        c.file("usr/bin/udpecho", f.read(), 0o755)
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        c.file("init", f.read(), 0o755)
    with open(os.path.join(HERE, "nginx.conf"), "rb") as f:
        c.file("etc/nginx/nginx.conf", f.read())
    c.file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    c.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    c.file("etc/kver", kver.encode() + b"\n")
    with open(out, "wb") as f:
        f.write(c.trailer())


def body_cpio(out, bodies):
    """A second archive with the bodies nginx serves: {guest path: bytes}."""
    c = Cpio()
    for path, data in bodies.items():
        c.file(path, data)
    with open(out, "wb") as f:
        f.write(c.trailer())


if __name__ == "__main__":
    main()
