#!/usr/bin/env python3
"""mksite.py DIR: the site of make bench's Pollux images, served as files by Pollux and by nginx in
the Linux guest alike: /16k.bin (16 KiB), /1m.bin (1 MiB) and /20m.bin (20 MB), random bytes (nothing
to compress),
the same at every run, with a fixed time so that make packs them once."""
import os
import random
import sys

root = sys.argv[1]
os.makedirs(root, exist_ok=True)
rnd = random.Random(16)
for name, size in (("16k.bin", 16384), ("1m.bin", 1 << 20), ("20m.bin", 20 * 1000 * 1000)):
    p = os.path.join(root, name)
    data = rnd.randbytes(size)
    if not os.path.exists(p) or open(p, "rb").read() != data:
        open(p, "wb").write(data)
    os.utime(p, (1767225600, 1767225600))
os.utime(root, (1767225600, 1767225600))
