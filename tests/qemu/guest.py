"""A Pollux guest under QEMU, driven through its serial console (shared by the QEMU tests)."""
import os
import re
import select
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU_SH = os.path.join(HERE, "..", "..", "scripts", "qemu.sh")


class Guest:
    def __init__(self, argv, log_path):
        """argv runs scripts/qemu.sh (possibly under `ip netns exec`); the console is logged."""
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.log = open(log_path, "wb")

    def expect(self, pattern, timeout):
        """Wait until pattern (a regex) appears after the read mark; return (match, text read)."""
        rx = re.compile(pattern.encode())
        end = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                out = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return m, out.decode(errors="replace")
            left = end - time.time()
            if left <= 0 or self.p.poll() is not None:
                return None, self.buf.decode(errors="replace")
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                self.log.write(chunk)
                self.log.flush()
                self.buf += chunk

    def wait_exit(self, timeout):
        """Read the console until QEMU exits (under -no-reboot, a guest reset) or timeout passes;
        return (QEMU's exit status, or None if it still runs, and the text read)."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                break
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:           # end of file: QEMU is gone
                    try:
                        self.p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        pass
                    break
                self.log.write(chunk)
                self.log.flush()
                self.buf += chunk
        out, self.buf = self.buf, b""
        return self.p.poll(), out.decode(errors="replace")

    def send(self, line):
        # Slowly: the console polls once a millisecond and the 16550 FIFO is 16 bytes.
        for ch in (line + "\r").encode():
            self.p.stdin.write(bytes([ch]))
            self.p.stdin.flush()
            time.sleep(0.01)

    def close(self):
        """End QEMU; what the console printed and no check read (a panic before a reset, QEMU's
        own last words) still goes to the log."""
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        while select.select([self.p.stdout], [], [], 0)[0]:
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                break
            self.log.write(chunk)
        self.log.close()


class Verdicts:
    """PASS/FAIL lines tagged with the test's configuration, counted for its summary line."""

    def __init__(self, tag):
        self.tag, self.passed, self.failed = tag, 0, 0

    def __call__(self, ok, name, detail):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} [{self.tag}] {name}: {detail}", flush=True)

    def summary(self, what):
        """Print "what-summary: N passed, M failed"; the exit status for it."""
        print(f"{what}-summary: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0
