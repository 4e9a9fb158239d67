#!/usr/bin/env python3
"""Check the linked image's read-only data before it becomes an EFI file.

Usage: check-image.py NM READELF IMAGE.so

[_rodata, _erodata) must be page aligned and hold every .rodata, .data.rel.ro and GOT section, and no
dynamic relocation may write to [_rodata, _data): that part sits in a PE section a loader may map
read-only, and the page tables map all of [_rodata, _erodata) read-only once built.
"""
import re
import subprocess
import sys

nm, readelf, so = sys.argv[1:4]


def fail(msg):
    print(f"check-image: {so}: {msg}", file=sys.stderr)
    sys.exit(1)


syms = {}
for line in subprocess.run([nm, so], check=True, capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3:
        syms[f[2]] = int(f[0], 16)
try:
    ro, data, ero = syms["_rodata"], syms["_data"], syms["_erodata"]
except KeyError as e:
    fail(f"no symbol {e}: not linked with arch/*/image.lds?")
if ro % 4096 or ero % 4096 or not ro < data <= ero:
    fail(f"bad read-only range _rodata=0x{ro:x} _data=0x{data:x} _erodata=0x{ero:x}")

sections = subprocess.run([readelf, "-SW", so], check=True, capture_output=True, text=True).stdout
for m in re.finditer(r"\]\s+(\.(?:rodata|data\.rel\.ro|got)\S*)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)",
                     sections):
    name, addr, size = m.group(1), int(m.group(2), 16), int(m.group(3), 16)
    if size and (addr < ro or addr + size > ero):
        fail(f"{name} [0x{addr:x}, 0x{addr + size:x}) is outside the read-only range [0x{ro:x}, 0x{ero:x})")

relocs = 0
out = subprocess.run([readelf, "-rW", so], check=True, capture_output=True, text=True).stdout
for line in out.splitlines():
    f = line.split()
    if len(f) >= 3 and re.fullmatch(r"[0-9a-f]{8,16}", f[0]) and f[2].startswith("R_"):
        relocs += 1
        off = int(f[0], 16)
        if ro <= off < data:
            fail(f"a {f[2]} relocation writes 0x{off:x}, in [_rodata, _data)")
if not relocs:
    fail("no dynamic relocations found: has readelf's output changed?")
