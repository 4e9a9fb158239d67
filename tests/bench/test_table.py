#!/usr/bin/env python3
"""test_table: make bench's table (scripts/bench/table.py) from the results.tsv fixture beside this
file: the run's facts, each row's cells and marks, the ratio against the better Linux (higher or
lower is better), results.tsv written by write_tsv read back the same, README's region rewritten
between its markers and nothing else; and a malformed results.tsv refused with its line and fault."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TABLE = os.path.join(ROOT, "scripts", "bench", "table.py")
FIXTURE = os.path.join(HERE, "results.tsv")
sys.path.insert(0, os.path.dirname(TABLE))
import table  # noqa: E402

failed = checks = 0


def check(cond, what, detail=""):
    global failed, checks
    checks += 1
    if not cond:
        failed += 1
        print("  FAIL", what, ("\n    " + detail.replace("\n", "\n    ")) if detail else "")


def run(*args):
    return subprocess.run([sys.executable, TABLE, *args], capture_output=True, text=True)


# The ratio: Pollux over the better Linux, which is the higher for rates and the lower for
# latency, bytes, seconds and TIME_WAIT; the first on a tie; none when a side is missing.
check(table.compare("req/s", 30.0, {"linux": 3.0, "linux-lat": 4.0}) == (7.5, "linux-lat"), "rates: the higher Linux")
check(table.compare("p50 ms", 0.2, {"linux": 0.8, "linux-lat": 0.5}) == (0.4, "linux-lat"), "latency: the lower Linux")
check(table.compare("bytes per connection", 2880.0, {"linux": 3395.0, "linux-lat": 4000.0})[1] == "linux",
      "bytes: the lower Linux")
check(table.compare("s to download", 1.0, {"linux": 2.0, "linux-lat": 1.0}) == (1.0, "linux-lat"),
      "seconds to download: the lower Linux")
check(table.compare("TIME_WAIT held at the end", 10.0, {"linux": 5.0, "linux-lat": 5.0}) == (2.0, "linux"),
      "a tie: the first Linux")
check(table.compare("pps", 130.0, {"linux": 100.0, "linux-lat": None}) == (1.3, "linux"), "one Linux missing")
check(table.compare("pps", None, {"linux": 1.0, "linux-lat": 2.0}) == (None, None), "Pollux missing: no ratio")
check(table.compare("pps", 1.0, {"linux": None, "linux-lat": None}) == (None, None), "no Linux: no ratio")

# The fixture's table: facts, rows, marks.
r = run(FIXTURE)
check(r.returncode == 0, "table.py makes the fixture's table", r.stderr)
md = r.stdout
facts = " ".join(md.split("\n\n")[0].split())
for want, what in (("Run of 2026-12-07 10:00 UTC", "the date"), ("commit `0123456789ab`", "the commit"),
                   ("with uncommitted changes (scripts/bench/bench.py)", "the dirty tree and what changed"),
                   ("(2 cores, AMD EPYC 7B13)", "the host CPU"), ("QEMU 10.0.2 (Debian 1:10.0.2+ds-2), TCG", "QEMU's version"),
                   ("3 rounds of 8 s (+2 s warm-up),", "the rounds"), ("Linux 6.1.0-57-cloud-amd64", "the guest kernel"),
                   ("Linux, latency-tuned: the same, and idle=poll", "what the latency-tuned Linux is"),
                   ("host load average (1 min) 0.5 at the start, 1.9 at the end", "the host's load")):
    check(want in facts, f"facts: {want!r} ({what})", facts)
check("BENCH_QUICK" not in facts, "facts: a full run is not called quick", facts)
rows = [l for l in md.splitlines() if l.startswith("| ")]
expect = [
    "| workload | metric | Pollux | Linux | Linux, latency-tuned | ratio | against |",
    "| HTTP keep-alive, 64 B | req/s | 30,000 [29,000..31,000] | 3,000 [2,900..3,100] | 4,000 [3,900..4,100] | 7.5 "
    "| Linux, latency-tuned |",
    "| HTTP keep-alive, 64 B over IPv6 | req/s | 28,000 [27,000..29,000] | 2,800 [2,700..2,900] | 3,700 [3,600..3,800] "
    "| 7.57 | Linux, latency-tuned |",
    "| HTTP latency at fixed load, 64 B (4 connections, 4 ms between requests) | p50 ms | 0.2 [0.19..0.21] | 0.8 "
    "| 0.5 [0.45..0.6] | 0.4 | Linux, latency-tuned |",
    "|  | p99 ms | 0.5 | 1.5 [1.4..1.6] | 2 [1.9..2.1] | 0.333 | Linux |",
    "| HTTP keep-alive, 64 B, 10,000 connections | req/s | 40,000 [39,000..41,000] | 1,000 [947..1,100] ! | 1,200 "
    "| 33.3 | Linux, latency-tuned |",
    "| UDP echo, 64 B, against testpmd (DPDK, in the Linux column) | pps | 130,000 [128,000..131,000] "
    "| testpmd 100,000 [99,000..101,000] | - | 1.3 | testpmd |",
    "| new connection per request, 60 s without a pause | TIME_WAIT held at the end | 14,000 | 4,096 | 4,096 | 3.42 "
    "| Linux |",
    "| UDP echo, 64 B | pps | - | 28,000 [27,000..29,000] | 30,000 [29,500..30,500] | - | - |",
]
check(len(rows) == len(expect), f"{len(expect) - 1} rows and the header", "\n".join(rows))
for got, want in zip(rows, expect):
    check(got == want, "row " + want[:60], f"got:  {got}\nwant: {want}")
check("- `!` HTTP keep-alive, 64 B, 10,000 connections, req/s, Linux: 632 socket errors" in md,
      "the row with socket errors has its line", md)
check(md.count("!") - md.count("`!`") == 1, "only that cell is marked", md)
check(table.label("http-keepalive-64B-ipv6") == "HTTP keep-alive, 64 B over IPv6"
      and table.label("http-keepalive-64B") == "HTTP keep-alive, 64 B", "the IPv6 keep-alive row's name beside the IPv4 one")
check("- note: round 2/3: pollux udp echo: Pollux did not get an address" in md, "the run's notes", md)

# write_tsv and read_tsv agree: a quick run's medians, ranges, errors and ratio come back.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "results.tsv")
    fx = [("date", "2026-12-08 09:00 UTC"), ("commit", "f" * 40), ("dirty", "no"), ("cpu", "Some CPU"),
          ("qemu", "QEMU emulator version 9.9"), ("rounds", 1), ("quick", "yes"), ("seconds", "3"), ("only", "pollux http")]
    table.write_tsv(path, fx, [
        {"workload": "http-keepalive-64B", "metric": "req/s",
         "values": {"pollux": [100.0, 300.0, 200.0], "linux": [10.0], "linux-lat": [40.0, 20.0]},
         "errors": {"linux-lat": 3}},
        {"workload": "http-latency-64B-4conn-4ms", "metric": "p99 ms",
         "values": {"pollux": [0.1234567], "linux": [2.0], "linux-lat": []}}], notes=["a note\nof two lines"])
    f, notes, systems, got = table.read_tsv(path)
    check(systems == ["pollux", "linux", "linux-lat"], "the systems come back from the header", repr(systems))
    check(f["quick"] == "yes" and f["rounds"] == "1" and f["commit"] == "f" * 40, "the facts come back", repr(f))
    check(notes == ["a note of two lines"], "a note stays on its line", repr(notes))
    a, b = got
    check(a["med"] == {"pollux": 200.0, "linux": 10.0, "linux-lat": 30.0} and a["min"]["pollux"] == 100.0
          and a["max"]["pollux"] == 300.0, "medians, lowest and highest", repr(a))
    check(a["ratio"] == 6.667 and a["against"] == "linux-lat" and a["errors"] == {"pollux": 0, "linux": 0, "linux-lat": 3},
          "ratio against the better Linux, errors", repr(a))
    check(b["med"]["pollux"] == 0.123 and b["med"]["linux-lat"] is None and b["against"] == "linux"
          and b["ratio"] == 0.061, "rounded to 3 places (the ratio of the written medians, 0.123 / 2); a missing "
          "value stays missing", repr(b))
    qmd = table.markdown(f, notes, systems, got)
    check("1 round of 3 s (`BENCH_QUICK=1`)" in " ".join(qmd.split()), "a quick run says so", qmd)
    check('BENCH_ONLY="pollux http"' in qmd and "commit `ffffffffffff`," in qmd and "uncommitted" not in qmd,
          "BENCH_ONLY, a clean tree", qmd)
    check("200 [100..300]" in qmd and "30 [20..40] !" in qmd, "cells of the written file", qmd)

    # Two Linux medians that differ only past the third place: the file's medians tie, and the
    # ratio is against the first Linux, as read_tsv checks (a run of 2026-12-07 wrote the other
    # one and its table could not be made); --from-runs writes such a file again from its rounds.
    tie = [{"workload": "http-file-20MB-delay50ms", "metric": "s to download",
            "values": {"pollux": [1.2], "linux": [1.4018], "linux-lat": [1.4016]}, "errors": {"linux": 1}}]
    table.write_tsv(path, fx, tie, notes=["kept"])
    try:
        _, _, _, got = table.read_tsv(path)
        check(got[0]["against"] == "linux" and got[0]["ratio"] == 0.856, "a tie in the written medians", repr(got))
    except table.TableError as e:
        check(False, "a tie in the written medians", str(e))
    with open(os.path.join(d, "results-runs.tsv"), "w") as fh:
        fh.write("workload\tmetric\tsystem\tvalues\nhttp-file-20MB-delay50ms\ts to download\tpollux\t1.2,1.0,1.1\n"
                 "http-file-20MB-delay50ms\ts to download\tlinux\t1.402\n"
                 "http-file-20MB-delay50ms\ts to download\tlinux-lat\t1.3,1.5\n")
    r = run("--from-runs", d)
    f2, notes2, _, got = table.read_tsv(path)
    check(r.returncode == 0 and got[0]["med"] == {"pollux": 1.1, "linux": 1.402, "linux-lat": 1.4}
          and got[0]["min"]["pollux"] == 1.0 and got[0]["against"] == "linux-lat" and got[0]["errors"]["linux"] == 1
          and notes2 == ["kept"] and f2["commit"] == "f" * 40, "--from-runs: the rounds again, facts and errors kept",
          repr((r.stderr, got, notes2)))

    # README: the region between the markers is rewritten, the rest kept; twice gives the same.
    readme = os.path.join(d, "README.md")
    before, after = "# Title\n\ntext before\n", "\ntext after\n"
    with open(readme, "w") as fh:
        fh.write(before + table.BEGIN + " -->\nold | table\n" + table.END + after)
    r = run("--readme", readme, FIXTURE)
    once = open(readme).read()
    check(r.returncode == 0 and once.startswith(before + table.BEGIN_LINE + "\n\nRun of 2026-12-07")
          and once.endswith("\n" + table.END + after) and "old | table" not in once and expect[1] in once,
          "--readme rewrites the region and keeps the rest", r.stderr + once)
    run("--readme", readme, FIXTURE)
    check(open(readme).read() == once, "--readme twice: the same file")
    with open(readme, "w") as fh:
        fh.write(before + table.BEGIN + " -->\nold\n" + after)
    r = run("--readme", readme, FIXTURE)
    check(r.returncode != 0 and "needs one line starting" in r.stderr and "old" in open(readme).read(),
          "--readme without the end marker: refused, the file untouched", r.stderr)

    # A malformed results.tsv: refused, with the file, the line and the fault.
    good = open(FIXTURE).read().split("\n")
    hdr = next(i for i, l in enumerate(good) if l.startswith("workload\t"))

    def edit(fn):
        lines = list(good)
        fn(lines)
        return "\n".join(lines)

    def setcell(lines, i, col, v):
        cells = lines[i].split("\t")
        cells[lines[hdr].split("\t").index(col)] = v
        lines[i] = "\t".join(cells)

    def drop_column(lines):
        i = lines[hdr].split("\t").index("linux-lat_max")
        for n in range(hdr, len(lines)):
            if lines[n]:
                cells = lines[n].split("\t")
                lines[n] = "\t".join(cells[:i] + cells[i + 1:])

    cases = [
        ("a row one field short", edit(lambda l: l.__setitem__(hdr + 1, l[hdr + 1].rsplit("\t", 1)[0])),
         f":{hdr + 2}: 15 tab-separated fields, the header has 16"),
        ("a value that is not a number", edit(lambda l: setcell(l, hdr + 3, "linux", "fast")),
         f":{hdr + 4}: linux is 'fast', not a number"),
        ("an error count that is not one", edit(lambda l: setcell(l, hdr + 1, "pollux_errors", "1.5")),
         f":{hdr + 2}: pollux_errors is '1.5', not a count"),
        ("a ratio the medians do not give", edit(lambda l: setcell(l, hdr + 1, "ratio", "9.9")),
         f":{hdr + 2}: ratio 9.9 against linux-lat, but the medians give 7.500 against linux-lat"),
        ("a ratio against the worse Linux", edit(lambda l: setcell(l, hdr + 3, "against", "linux")),
         f":{hdr + 4}: ratio 0.4 against linux, but the medians give 0.400 against linux-lat"),
        ("against names no Linux", edit(lambda l: setcell(l, hdr + 3, "against", "bsd")),
         f":{hdr + 4}: against is 'bsd', not one of linux, linux-lat"),
        ("no commit", edit(lambda l: l.remove("# commit: 0123456789abcdef0123456789abcdef01234567")),
         "no '# commit: ...' line"),
        ("rounds not a count", edit(lambda l: l.__setitem__(l.index("# rounds: 3"), "# rounds: three")),
         "'# rounds: three' is not a count"),
        ("a column missing", edit(drop_column), f":{hdr + 1}: the header lacks the column(s) linux-lat_max"),
        ("the results.tsv of bench.py before this format",
         "workload\tmetric\tpollux\tlinux\tratio\tpollux_errors\tlinux_errors\nhttp-keepalive-64B\treq/s\t1\t1\t1\t0\t0\n",
         ":1: the header lacks the column(s) against, pollux_min, pollux_max, linux_min, linux_max"),
        ("a blank line among the rows", edit(lambda l: l.insert(hdr + 2, "")), f":{hdr + 3}: a comment or blank line"),
        ("no header", "# date: x\n", "no header line"),
    ]
    for what, text, want in cases:
        bad = os.path.join(d, "bad.tsv")
        with open(bad, "w") as fh:
            fh.write(text)
        r = run(bad)
        check(r.returncode != 0 and r.stderr.startswith("table.py: error: ") and want in r.stderr and not r.stdout,
              f"refused: {what}", f"status {r.returncode}, stderr {r.stderr.strip()!r}, want {want!r}")

print(f"{'ok' if not failed else 'FAIL'}: {checks} checks, {failed} failed")
sys.exit(1 if failed else 0)
