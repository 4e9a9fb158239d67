#!/usr/bin/env python3
"""QEMU boot tests: boot the test image on one architecture and check the console; a crash on any
core and a core whose loop stops both end in a reset of the machine with the report on the console.

Usage: boot.py ARCH IMAGE CORES MEM [pc]
pc: x86_64 on QEMU's i440FX/PIIX machine (-machine pc) instead of q35: no MCFG (PCI through ports
0xCF8/0xCFC), a FADT without a reset register (the reset falls back to port 0xCF9).
Prints one line per check ("PASS name: what it proves" / "FAIL name: why") and a final
"boot-summary: N passed, M failed". The whole session has a hard time limit.
"""
import os
import re
import sys
import time

from guest import QEMU_SH, Guest, Verdicts

ARCH, IMAGE, CORES, MEM = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
PC = sys.argv[5:] == ["pc"]
if PC:
    os.environ["QEMU_MACHINE"] = "pc"
TAG = f"{ARCH} {CORES}c {MEM}" + (" pc" if PC else "")
BOOT_TIMEOUT = 180      # TCG on a loaded 2-core machine can be slow; a normal boot is ~10 s
CMD_TIMEOUT = 30
RESET_TIMEOUT = 30      # from the report to QEMU's exit: the report, 50 ms for the UART, the reset
WATCHDOG_MARGIN = 10    # beyond POLLUX_WATCHDOG_S: the watcher looks ten times a second; TCG is slow
# The first way of resetting each machine offers (arch/*/cpu.c arch_reset): q35's FADT names port 0xCF9,
# pc's FADT has no reset register, so port 0xCF9 (PIIX3's reset control) is tried directly;
# virt's PSCI conduit is HVC. A second "reset through" line would mean the first did not work.
RESET_WAY = {"x86_64": r"reset through the ACPI reset register \(port 0xcf9 <- 0x0f\)",
             "aarch64": r"reset through PSCI SYSTEM_RESET \(hvc\)"}[ARCH]
if PC:
    RESET_WAY = r"reset through port 0xcf9"

result = Verdicts(TAG)


def guest(n):
    return Guest([QEMU_SH, ARCH, IMAGE, str(CORES), MEM],
                 os.path.join(os.path.dirname(IMAGE), f"console-{ARCH}-{CORES}c-{MEM}{'-pc' if PC else ''}{n}.log"))


def reset_seen(c, name, what):
    """Called once the report's last line has been read: QEMU (run with -no-reboot) exits on its own
    within RESET_TIMEOUT, and after the report the console shows the reset notice and then exactly
    one way of resetting, so the report was all out before the reset."""
    t0 = time.time()
    rc, out = c.wait_exit(RESET_TIMEOUT)
    took = time.time() - t0
    j = out.find("pollux: resetting the machine (POLLUX_PANIC_REBOOT)")
    way = re.search(RESET_WAY, out)
    ok = rc == 0 and j >= 0 and bool(way) and way.start() > j and out.count("reset through") == 1
    result(ok, name, f"{what}; QEMU exited (status {rc}) {took:.1f} s later, after the report and "
           + (way.group(0) if way else "no way of resetting named") + ("" if ok else ":\n" + out[-1500:]))
    return out


def fresh_guest(c, n):
    """Close c (its machine has reset) and boot guest number n; return it with whether it came up."""
    c.close()
    c = guest(f"-{n}")
    m, out = c.expect(r"pollux: ready arch=", BOOT_TIMEOUT)
    if not m:
        result(False, f"reboot-{n}", f"no 'pollux: ready' line on boot {n}:\n" + out[-2000:])
    return c, bool(m)


def main():
    c = guest("")
    try:
        m, out = c.expect(r"pollux: ready arch=(\S+) cores=(\d+) ram=(\d+)MiB boot=(\d+)ms", BOOT_TIMEOUT)
        if not m:
            result(False, "boot", "no 'pollux: ready' line; console said:\n" + out[-2000:])
            return
        wd = re.search(r"watchdog: each core watches the next one's loop, (\d+) s; panics, faults and the "
                       r"watchdog reset the machine", out)
        result(bool(wd), "watchdog-on", "the boot log says every core is watched and a panic resets: "
               + (wd.group(0) if wd else out[-800:]))
        wd_s = int(wd.group(1)) if wd else 10
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

        # PCI: on pc (no MCFG) every function is reached through ports 0xCF8/0xCFC, the i440FX host
        # bridge at 00:00.0 first; on q35 and virt through ECAM, and the ports are never used.
        c.send("pci")
        mh, outp = c.expect(r"pci: (\d+) functions([^\n]*)\n", CMD_TIMEOUT)
        n = int(mh.group(1)) if mh else 0
        mp, outl = c.expect(r"((?:pci: [0-9a-f]{4}:[^\n]*\n){%d})" % n, CMD_TIMEOUT) if mh else (None, outp)
        if mp:
            lines = mp.group(1).decode().splitlines()
            ports = re.search(r", (\d+) through ports 0xCF8/0xCFC", mh.group(2).decode())
            via = [l for l in lines if l.rstrip().endswith(" cfg=ports")]
            if PC:
                ok = n == len(lines) == len(via) > 0 and bool(ports) and int(ports.group(1)) == n \
                    and re.match(r"pci: 0000:00:00\.0 8086:1237 class 06/00", lines[0]) is not None
            else:
                ok = n == len(lines) > 0 and not via and not ports
            result(ok, "pci-config", f"{n} functions, " + (f"all through ports 0xCF8/0xCFC, first {lines[0].strip()}"
                   if PC else "all through ECAM") + ("" if ok else ":\n" + mp.group(0).decode()[-1500:]))
        else:
            result(False, "pci-config", "no answer to 'pci':\n" + (outp + outl)[-800:])

        c.send("frobnicate")
        mx, outx = c.expect(r"unknown command 'frobnicate'", CMD_TIMEOUT)
        result(bool(mx), "unknown-command", "an unknown command gets a clear error")

        # `help` lists the kernel's commands and those the layers above registered at boot.
        c.send("help")
        mh, outh = c.expect(r"\n  stats +[^\n]*\n", CMD_TIMEOUT)
        names = re.findall(r"^  (\S+) ", outh, re.M)
        want = ["help", "cores", "mem", "uptime", "prof", "fault", "hang", "overflow", "rowrite", "smash", "random",
                "pci", "stats"]
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
        # report is printed from the exception stack, and the machine resets. Core 0 runs the console.
        c.send("overflow")
        mo, outo = c.expect(r"pollux: core (\d+) stopped", CMD_TIMEOUT)
        named = re.search(r"pollux: stack overflow on core 0: (?:cr2|far)=(0x[0-9a-f]+) is in core 0's stack guard page",
                          outo)
        ok = bool(mo) and mo.group(1) == b"0" and "overflow: recursing on core 0" in outo \
            and "pollux: crash core=0" in outo and bool(named) and "did not overflow" not in outo
        result(ok, "stack-overflow",
               "recursion on core 0 faults in its guard page and the crash report names the stack overflow"
               + ("" if ok else ":\n" + outo[-1500:]))
        reset_seen(c, "overflow-reset", "the overflow on core 0 ends in a reset")
        # The other crashes each take a boot of their own and do not depend on the RAM size or the
        # machine: they run once per architecture, in the 2 GiB run on q35 / virt.
        if MEM != "2G" or PC:
            return

        # A fault on a core other than the console's: before the watchdog and the reset, core 1 stopped
        # and the others went on half-serving. Now its report is printed and the machine resets.
        c, up = fresh_guest(c, "2")
        if not up:
            return
        c.send("fault 1")
        mf, outf = c.expect(r"pollux: core (\d+) stopped", CMD_TIMEOUT)
        ok = bool(mf) and mf.group(1) == b"1" and "pollux: crash core=1" in outf and "backtrace: +0x" in outf
        # The faulting address the CPU reports (x86 cr2, AArch64 far) is the text address written.
        target = re.search(r"fault: core 1 writing to kernel text at (0x[0-9a-f]+)", outf)
        fault_addr = re.search(r"(?:cr2|far)=(0x[0-9a-f]+)", outf)
        ok = ok and bool(target and fault_addr) and int(target.group(1), 16) == int(fault_addr.group(1), 16)
        result(ok, "crash-report",
               "a write to kernel text on core 1 faults and prints core, vector, registers, backtrace"
               + ("" if ok else ":\n" + outf[-1500:]))
        reset_seen(c, "fault-reset", "the fault on core 1 ends in a reset")

        # The watchdog: the last core spins with its loop counter frozen; the core before it, which
        # watches it, must report it after POLLUX_WATCHDOG_S (not before) and reset the machine.
        c, up = fresh_guest(c, "3")
        if not up:
            return
        stuck = CORES - 1
        c.send(f"hang {stuck}")
        mh, outh = c.expect(r"hang: core (\d+) stops its loop at loops=(\d+)\r?\n", CMD_TIMEOUT)
        if not mh:
            result(False, "watchdog", "no answer to 'hang':\n" + outh[-800:])
            return
        t0 = time.time()
        rx = r"pollux: watchdog: core %d's loop has not moved for (\d+) ms \(loops=%s, [^\n]*seen by core %d" % (
            stuck, mh.group(2).decode(), stuck - 1)
        mw, outw = c.expect(rx, wd_s + WATCHDOG_MARGIN)
        took = time.time() - t0
        ms = int(mw.group(1)) if mw else 0
        ok = bool(mw) and wd_s * 1000 <= ms < (wd_s + WATCHDOG_MARGIN) * 1000 and took >= wd_s - 1
        result(ok, "watchdog",
               f"core {stuck}'s loop stopped; core {stuck - 1} reported it {took:.1f} s later "
               f"(POLLUX_WATCHDOG_S={wd_s}, +{WATCHDOG_MARGIN} s allowed)"
               + (": " + mw.group(0).decode() if ok else ":\n" + outw[-1500:]))
        reset_seen(c, "watchdog-reset", "the watchdog's report ends in a reset")

        # Constant data (.data.rel.ro: the console's command table) is mapped read-only: writing to
        # it crashes like `fault`, at the table's address.
        c, up = fresh_guest(c, "4")
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
        reset_seen(c, "rodata-reset", "the write to constant data ends in a reset")

        # The stack protector: overrunning a local array ends in __stack_chk_fail's panic, naming
        # where, before the function returns.
        c, up = fresh_guest(c, "5")
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
        reset_seen(c, "stack-protector-reset", "the stack protector's panic ends in a reset")
    finally:
        c.close()


if __name__ == "__main__":
    main()
    sys.exit(result.summary("boot"))
