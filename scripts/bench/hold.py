#!/usr/bin/env python3
"""hold.py IP N: open N keep-alive connections to http://IP/, ask GET / once on each and read the
whole answer, print "held K" (K answered), then hold them all until a line comes on stdin (or an
hour passes) and reset them (a close would keep each client port in TIME_WAIT for a minute, and
the runs after need them). bench.py's idle-memory row runs it inside its namespace."""
import asyncio
import resource
import socket
import struct
import sys

REQ = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


async def one(ip, conns, gate):
    async with gate:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(ip, 80), 30)
            w.write(REQ)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await asyncio.wait_for(r.readexactly(length), 30)
            conns.append(w)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            pass


async def main(ip, n):
    conns = []
    gate = asyncio.Semaphore(256)       # connections being opened at once
    await asyncio.gather(*(one(ip, conns, gate) for _ in range(n)))
    print(f"held {len(conns)}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), 3600)
    except asyncio.TimeoutError:
        pass
    for w in conns:
        w.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.close()


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
