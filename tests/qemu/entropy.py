#!/usr/bin/env python3
"""QEMU entropy tests: which sources seed the random generators, and that two boots differ.

Usage: entropy.py ARCH IMAGE
Boots the test image (1 vCPU, 1 GiB) several times with different CPUs and devices and checks the
console's "random:" line: on AArch64, QEMU's cortex-a72 (no RNDR, as EC2 A1 and Graviton2) with
no RNG device has only counter jitter, which must pass its health tests and be credited 256 bits;
with a virtio-rng-pci device the firmware's EFI_RNG_PROTOCOL is used and Pollux's own virtio-rng driver
adds 256 bits more (the line is printed again, naming it) and, after the first reseed (60 s), `random`
shows the core's reseed took device bytes; -cpu max has RNDR. On x86
-cpu max has RDSEED. Every boot asks `random` for the ISN key's value for one four-tuple: no two
boots may share it. Prints PASS/FAIL lines and "entropy-summary: N passed, M failed".
"""
import os
import re
import sys
import time

from guest import QEMU_SH, Guest, Verdicts

ARCH, IMAGE = sys.argv[1], sys.argv[2]
TAG = f"{ARCH} entropy"
BOOT_TIMEOUT = 180
CMD_TIMEOUT = 30
RESEED_WAIT = 65

result = Verdicts(TAG)


RANDOM = (r"random: (?P<hw>[^,]*), efi-rng (?P<fw>\d+), smccc-trng (?:none )?(?P<trng>\d+), jitter (?P<jit>\d+) "
          r"\((?P<blocks>\d+) blocks of \d+ samples, (?P<failed>\d+) failed the health tests[^)]*\)"
          r"(?P<added>(?:, [a-z0-9-]+ \d+)*): (?P<bits>\d+) bits"
          r"(?P<short> \(short\))?")


def boot(name, extra, env, reseed=False):
    """Boot once; return (the random line's fields, the ISN key, the line, the console, the device bytes
    line of `random` after the first reseed when reseed) or None after a FAIL line."""
    log = os.path.join(os.path.dirname(IMAGE), f"console-{ARCH}-entropy-{name}.log")
    c = Guest(["env"] + [f"{k}={v}" for k, v in env.items()] + [QEMU_SH, ARCH, IMAGE, "1", "1G"] + extra, log)
    try:
        m, out = c.expect(r"pollux: ready arch=", BOOT_TIMEOUT)
        if not m:
            result(False, name, "no 'pollux: ready' line:\n" + out[-1500:])
            return None
        # A source a driver adds at boot (virtio-rng) prints the line again: the last one counts.
        found = list(re.finditer(RANDOM, out))
        r = found[-1] if found else None
        if not r:
            result(False, name, "no 'random:' line naming every source:\n" + out[-1500:])
            return None
        c.send("random")
        k, outk = c.expect(r"random: isn key (0x[0-9a-f]+)\r?\n", CMD_TIMEOUT)
        if not k:
            result(False, name, "`random` printed no ISN key:\n" + outk[-800:])
            return None
        fed = None
        if reseed:
            # Each core reseeds 60 s after its loop starts; core 0 offers device bytes every 100 ms.
            time.sleep(RESEED_WAIT)
            c.send("random")
            f, outf = c.expect(r"random: reseeds with device bytes c0=(\d+)(?=\s)", CMD_TIMEOUT)
            fed = f.group(0).decode() if f else "no device-bytes line from `random`:\n" + outf[-800:]
        return r, k.group(1).decode(), r.group(0), out, fed
    finally:
        c.close()


def main():
    keys = {}
    if ARCH == "aarch64":
        cases = [
            ("jitter", [], {"QEMU_RNG": "0"}),
            ("jitter-again", [], {"QEMU_RNG": "0"}),
            ("virtio-rng", [], {"QEMU_RNG": "1"}, True),
            ("rndr", ["-cpu", "max"], {"QEMU_RNG": "0"}),
        ]
    else:
        cases = [("rdseed", [], {"QEMU_RNG": "0"}), ("rdseed-again", [], {"QEMU_RNG": "0"})]
    for name, extra, env, *reseed in cases:
        got = boot(name, extra, env, bool(reseed))
        if not got:
            continue
        r, key, line, out, fed = got
        added = {n: int(b) for n, b in re.findall(r", ([a-z0-9-]+) (\d+)", r.group("added"))}
        keys[name] = key
        hw, fw, bits = r.group("hw"), int(r.group("fw")), int(r.group("bits"))
        jit, nfail, blocks = int(r.group("jit")), int(r.group("failed")), int(r.group("blocks"))
        if name.startswith("jitter"):
            ok = (hw == "no CPU generator" and fw == 0 and jit >= 256 and bits == jit and not added
                  and not r.group("short"))
            result(ok, name, f"cortex-a72 without an RNG device: counter jitter alone, through its health "
                   f"tests ({nfail} of {blocks} blocks failed), credited {jit} bits >= 256: {line}")
        elif name == "virtio-rng":
            ok = fw == 256 and hw == "no CPU generator" and bits >= 256
            result(ok, name, f"virtio-rng-pci: the firmware's EFI_RNG_PROTOCOL gave 256 bits: {line}")
            drv = re.search(r"vrng0: (\d+) bytes for the seed", out)
            ok = (added.get("virtio-rng") == 256 and drv is not None and int(drv.group(1)) == 32
                  and bits == fw + jit + 256)
            result(ok, name + "-driver", f"Pollux's virtio-rng driver read 32 bytes at boot, credited 256 bits "
                   f"on the random: line ({drv.group(0) if drv else 'no vrng0 line'}): {line}")
            m = re.match(r"random: reseeds with device bytes c0=(\d+)", fed)
            result(m is not None and int(m.group(1)) >= 1, name + "-reseed",
                   f"after {RESEED_WAIT} s core 0's reseed took the device's bytes from its mailbox: {fed}")
        elif name == "rndr":
            ok = hw == "rndr 256"
            result(ok, name, f"-cpu max: RNDR answered and passed its check: {line}")
        else:
            ok = hw == "rdseed 256" and bits >= 256
            result(ok, name, f"-cpu max: RDSEED answered and passed its check: {line}")
    distinct = len(set(keys.values()))
    result(len(keys) == len(cases) and distinct == len(keys), "isn-keys-differ",
           f"{len(keys)} boots, {distinct} different ISN keys for the same four-tuple: {sorted(keys.values())}")


if __name__ == "__main__":
    main()
    sys.exit(result.summary("entropy"))
