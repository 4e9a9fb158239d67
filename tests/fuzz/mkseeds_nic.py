#!/usr/bin/env python3
"""Write the seed corpora of fuzz_vnet_rx and fuzz_ena_rx (tests/fuzz/seeds/<target>): step
sequences in the byte format their LLVMFuzzerTestOneInput reads (queue byte, step byte, arguments,
little-endian). Run again after changing either format."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def b(*v):
    return bytes(v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def burst(q, keep=1):
    return b(q, 4, 63, keep)


def vnet():
    frame = lambda q, seed, valid=1: b(q, 0) + u32(seed) + b(valid)
    s = {}
    s["traffic"] = b"".join([frame(0, 0x00010040), frame(1, 0x00020500), frame(0, 0x0003057c, 0), frame(1, 0x40000000),
                             burst(0), burst(1, 0), b(0, 5, 8), b(0, 6), b(1, 6), burst(0, 0)])
    s["bad-used"] = b"".join([frame(1, 0x10), b(1, 1, 0x00, 200) + u16(5000), b(1, 1, 0x80) + u32(1000) + u16(100),
                              b(0, 1, 0x40, 3) + u32(0xffffffff), b(0, 1, 0x00, 4) + u16(5), burst(0), burst(1)])
    s["idx-jump"] = b"".join([frame(0, 0x22), b(1, 2) + u16(257), burst(1), b(1, 7), b(1, 7), b(0, 7), burst(1)])
    s["len-lie"] = b"".join([b(0, 3) + u32(0x99) + u32(5000), b(1, 3) + u32(0x98) + u32(3), burst(0), burst(1)])
    send = lambda q, seed: b(q, 10) + u32(seed)
    s["tx"] = b"".join([send(0, 0x500), send(1, 0x10600), send(0, 0x20), b(0, 6), b(1, 6), b(0, 9),
                        b(0, 11, 0x00, 3) + u16(0), b(1, 11, 0x80) + u32(4000) + u16(0), send(1, 0x30700), b(1, 6),
                        b(0, 6), b(1, 7)])
    s["reset-link"] = b"".join([frame(0, 0x33), burst(0), b(0, 8, 1), b(0, 7), b(0, 7), b(0, 8, 0), b(0, 7),
                                b(0, 8, 0), b(0, 7), b(0, 5, 15)])
    return s


def ena():
    frame = lambda q, seed: b(q, 0) + u32(seed)
    FL = 0x0c000000                     # ENA_RXC_FIRST | ENA_RXC_LAST
    cdesc = lambda q, pick, *args: b(q, 1, pick) + b"".join(args)
    s = {}
    s["traffic"] = b"".join([frame(0, 0x00010040), frame(1, 0x00020500), frame(0, 0x40000000), burst(0), burst(1, 0),
                             b(0, 5, 8), b(0, 6), b(1, 6), b(0, 7), burst(0, 0)])
    s["bad-cdesc"] = b"".join([
        frame(0, 0x11),
        cdesc(0, 0x00, u16(0x0c10), u16(7), b(5), u32(0)),                  # 7 bytes
        cdesc(0, 0x20, u16(0), u16(100), b(6), u32(0), b(3)),                # moved by an offset
        cdesc(1, 0x40, u16(0), u16(100), u16(0xffff), u32(0)),              # request id beyond the pool
        cdesc(1, 0x80, u32(0x00001d08), u16(100), b(7), u32(0)),            # not FIRST | LAST
        cdesc(0, 0x00, u16(0x0c10), u16(5000), b(8), u32(0)),               # longer than a buffer
        cdesc(1, 0x10, u16(0), u16(60), b(9), u32(0)),                      # the last lap's phase
        burst(0), burst(1)])
    send = lambda q, seed: b(q, 10) + u32(seed)
    tcd = lambda q, pick, *args: b(q, 11, pick) + b"".join(args)
    s["tx"] = b"".join([send(0, 0x500), send(1, 0x10600), b(0, 6), b(1, 6), send(0, 0x700),
                        tcd(0, 0x00, b(1), b(0), u16(0)), tcd(1, 0x80, u16(9999), b(0), u16(0)),
                        tcd(0, 0x10, b(2), b(0), u16(0)), b(0, 6), b(1, 6), b(0, 7), b(0, 7)])
    s["aenq"] = b"".join([b(0, 2, g) + u32(d) for g, d in ((0, 0), (0, 1), (1, 0), (2, 5), (3, 7), (4, 9), (7, 1))] +
                         [b(0, 7)] * 4)
    s["keep-alive-stops"] = b"".join([frame(0, 0x44), b(0, 3)] + [b(0, 7)] * 30 + [b(0, 3), burst(0)])
    return s


def main():
    for target, seeds in (("fuzz_vnet_rx", vnet()), ("fuzz_ena_rx", ena())):
        out = os.path.join(HERE, "seeds", target)
        os.makedirs(out, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
