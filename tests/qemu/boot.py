#!/usr/bin/env python3
"""QEMU boot tests: boot the test image on one architecture and check the console.

Usage: boot.py ARCH IMAGE CORES MEM
Prints one line per check ("PASS name: what it proves" / "FAIL name: why") and a final
"boot-summary: N passed, M failed". The whole session has a hard time limit.
"""
import os
import re
import sys
import time

from guest import QEMU_SH, Guest

ARCH, IMAGE, CORES, MEM = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
TAG = f"{ARCH} {CORES}c {MEM}"
BOOT_TIMEOUT = 180      # TCG on a loaded 2-core machine can be slow; a normal boot is ~10 s
CMD_TIMEOUT = 30

passed = failed = 0


def result(ok, name, detail):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS [{TAG}] {name}: {detail}", flush=True)
    else:
        failed += 1
        print(f"FAIL [{TAG}] {name}: {detail}", flush=True)


def fresh_guest(c, n):
    """A crash test stops core 0, which runs the console: close c, boot guest number n and return it
    with whether it came up."""
    c.close()
    c = Guest([QEMU_SH, ARCH, IMAGE, str(CORES), MEM],
              os.path.join(os.path.dirname(IMAGE), f"console-{ARCH}-{CORES}c-{MEM}-{n}.log"))
    m, out = c.expect(r"pollux: ready arch=", BOOT_TIMEOUT)
    if not m:
        result(False, f"reboot-{n}", f"no 'pollux: ready' line on boot {n}:\n" + out[-2000:])
    return c, bool(m)


def main():
    c = Guest([QEMU_SH, ARCH, IMAGE, str(CORES), MEM],
              os.path.join(os.path.dirname(IMAGE), f"console-{ARCH}-{CORES}c-{MEM}.log"))
    try:
        m, out = c.expect(r"pollux: ready arch=(\S+) cores=(\d+) ram=(\d+)MiB boot=(\d+)ms", BOOT_TIMEOUT)
        if not m:
            result(False, "boot", "no 'pollux: ready' line; console said:\n" + out[-2000:])
            return
        arch, cores, ram, ms = m.group(1).decode(), int(m.group(2)), int(m.group(3)), int(m.group(4))
        result(arch == ARCH, "ready-arch", f"ready line names arch={arch}")
        result(cores == CORES, "ready-cores", f"every core reached its loop: cores={cores} of {CORES}")
        want_mib = int(MEM[:-1]) * 1024 if MEM.endswith("G") else int(MEM[:-1])
        result(want_mib * 0.85 <= ram <= want_mib, "ready-ram",
               f"ram={ram}MiB is the guest's {want_mib}MiB less firmware holes")
        result(0 < ms < BOOT_TIMEOUT * 1000, "ready-time", f"boot time from efi_main {ms} ms")

        c.send("mem")
        m1, out1 = c.expect(r"mem: checksum=(0x[0-9a-f]+) boot=(0x[0-9a-f]+) (\S+)\r?\n", CMD_TIMEOUT)
        pages = re.search(r"pages 1g=(\d+) 2m=(\d+) 4k=(\d+)", out1)
        ok = bool(m1 and pages and int(pages.group(1)) > 0)
        result(ok, "mem-1g-pages", f"RAM is mapped with 1 GiB pages: {pages.group(0) if pages else out1[-500:]}")
        # Every core's arena, each with memory left (no NIC here: nothing took network memory).
        ma, outa = c.expect(r"mem: arena free MiB((?: c\d+=\d+)+)\r?\n", CMD_TIMEOUT)
        left = [int(x) for x in re.findall(r"c\d+=(\d+)", ma.group(1).decode())] if ma else []
        result(len(left) == CORES and all(x > 0 for x in left), "mem-arenas",
               f"free MiB per core's arena: {left if ma else outa[-300:]}")
        c.send("cores")
        mc, outc = c.expect(r"cores: (\d+) started of (\d+) in ACPI\r?\n((?:[ \t]+core [^\n]*\n){%d})" % CORES,
                            CMD_TIMEOUT)
        if mc:
            lines = mc.group(3).decode().splitlines()
            running = [l for l in lines if "running" in l and int(re.search(r"loops=(\d+)", l).group(1)) > 0]
            result(len(running) == CORES, "cores-running",
                   f"{len(running)} of {CORES} cores running their loop with loops > 0")
        else:
            result(False, "cores-running", "no answer to 'cores':\n" + outc[-500:])
        c.send("mem")
        m2, out2 = c.expect(r"mem: checksum=(0x[0-9a-f]+) boot=(0x[0-9a-f]+) (\S+)\r?\n", CMD_TIMEOUT)
        ok = bool(m1 and m2 and m1.group(1) == m2.group(1) == m1.group(2) and m2.group(3) == b"unchanged")
        result(ok, "mem-checksum-stable",
               "page-table checksum identical at boot and after all cores ran: "
               + (m2.group(1).decode() if m2 else "no answer"))

        c.send("uptime")
        mu, outu = c.expect(r"uptime: (\d+)\.(\d+)s", CMD_TIMEOUT)
        result(bool(mu), "uptime", f"console answers uptime: {mu.group(0).decode() if mu else outu[-300:]}")

        c.send("frobnicate")
        mx, outx = c.expect(r"unknown command 'frobnicate'", CMD_TIMEOUT)
        result(bool(mx), "unknown-command", "an unknown command gets a clear error")

        # `help` lists the kernel's commands and those the layers above registered at boot.
        c.send("help")
        mh, outh = c.expect(r"\n  stats +[^\n]*\n", CMD_TIMEOUT)
        names = re.findall(r"^  (\S+) ", outh, re.M)
        want = ["help", "cores", "mem", "uptime", "fault", "overflow", "rowrite", "smash", "pci", "stats"]
        result(bool(mh) and sorted(names) == sorted(want), "help-registered",
               f"help lists {names} (kernel's own, drivers' pci, net's stats)")

        # Output is buffered and drained by core 0 a little per loop: after several long answers
        # in a row, `cores` reports the worst time one loop iteration spent on the console.
        # Under TCG the figure is not a measurement of real hardware: shown, not bounded.
        seen = []
        for _ in range(3):
            c.send("help")
            c.send("cores")
            mk, outk = c.expect(r"console: ([^\n]*) console_max=(\d+)us dropped=(\d+) bytes\r?\n", CMD_TIMEOUT)
            if not mk:
                seen = None
                break
            seen.append((int(mk.group(2)), int(mk.group(3)), mk.group(1).decode()))
        ok = bool(seen) and all(d == 0 for _, d, _ in seen)
        result(ok, "console-max",
               "cores reports the console's cost on core 0 and nothing dropped: "
               + (", ".join(f"console_max={us}us" for us, _, _ in seen) + f" ({seen[0][2]})" if seen
                  else "no console line:\n" + outk[-800:]))

        # A stack overflow lands in the guard page below the stack and is reported as one; the
        # report is printed from the exception stack, and the core stops. Core 0 runs the console.
        c.send("overflow")
        mo, outo = c.expect(r"pollux: core (\d+) stopped", CMD_TIMEOUT)
        named = re.search(r"pollux: stack overflow on core 0: (?:cr2|far)=(0x[0-9a-f]+) is in core 0's stack guard page",
                          outo)
        ok = bool(mo) and mo.group(1) == b"0" and "overflow: recursing on core 0" in outo \
            and "pollux: crash core=0" in outo and bool(named) and "did not overflow" not in outo
        result(ok, "stack-overflow",
               "recursion on core 0 faults in its guard page and the crash report names the stack overflow"
               + ("" if ok else ":\n" + outo[-1500:]))
        # Core 0 is stopped: the fault test needs a fresh guest.
        c.close()
        c = Guest([QEMU_SH, ARCH, IMAGE, str(CORES), MEM],
                  os.path.join(os.path.dirname(IMAGE), f"console-{ARCH}-{CORES}c-{MEM}-2.log"))
        m, out = c.expect(r"pollux: ready arch=", BOOT_TIMEOUT)
        if not m:
            result(False, "reboot", "no 'pollux: ready' line on the second boot:\n" + out[-2000:])
            return

        c.send("fault")
        mf, outf = c.expect(r"pollux: core (\d+) stopped", CMD_TIMEOUT)
        ok = bool(mf) and "pollux: crash core=0" in outf and "backtrace: +0x" in outf
        # The faulting address the CPU reports (x86 cr2, AArch64 far) is the text address written.
        target = re.search(r"writing to kernel text at (0x[0-9a-f]+)", outf)
        fault_addr = re.search(r"(?:cr2|far)=(0x[0-9a-f]+)", outf)
        ok = ok and bool(target and fault_addr) and int(target.group(1), 16) == int(fault_addr.group(1), 16)
        result(ok, "crash-report",
               "a write to kernel text faults and prints core, vector, registers, backtrace"
               + ("" if ok else ":\n" + outf[-1500:]))

        # Constant data (.data.rel.ro: the console's command table) is mapped read-only: writing to
        # it crashes like `fault`, at the table's address.
        c, up = fresh_guest(c, "3")
        if not up:
            return
        c.send("rowrite")
        mr, outr = c.expect(r"pollux: core (\d+) stopped", CMD_TIMEOUT)
        target = re.search(r"writing to the const command table at (0x[0-9a-f]+)", outr)
        fault_addr = re.search(r"(?:cr2|far)=(0x[0-9a-f]+)", outr)
        ok = bool(mr) and "pollux: crash core=0" in outr and "backtrace: +0x" in outr \
            and "did not fault" not in outr and bool(target and fault_addr) \
            and int(target.group(1), 16) == int(fault_addr.group(1), 16)
        result(ok, "rodata-readonly",
               "a write to a const table (.data.rel.ro) faults at its address with a crash report"
               + ("" if ok else ":\n" + outr[-1500:]))

        # The stack protector: overrunning a local array ends in __stack_chk_fail's panic, naming
        # where, before the function returns.
        c, up = fresh_guest(c, "4")
        if not up:
            return
        c.send("smash")
        ms, outs = c.expect(r"pollux: panic on core (\d+): stack protector: canary overwritten, [^\n]* from "
                            r"\+0x[0-9a-f]+ [^\n]*overrun", CMD_TIMEOUT)
        ok = bool(ms) and ms.group(1) == b"0" and "smash: wrote 64 bytes into a 16-byte array" in outs \
            and "did not catch" not in outs
        result(ok, "stack-protector",
               "overrunning a local array ends in the stack protector's panic on core 0"
               + ("" if ok else ":\n" + outs[-1500:]))
    finally:
        c.close()


if __name__ == "__main__":
    main()
    print(f"boot-summary: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
