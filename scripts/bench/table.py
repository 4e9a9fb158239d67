#!/usr/bin/env python3
"""make bench's table: the Markdown that README carries, made from a run's results.tsv alone.

    table.py [RESULTS]                   the table on stdout
    table.py --readme [README] RESULTS   rewrite README's region between the markers
                                         <!-- bench-table begin ... --> and <!-- bench-table end -->
                                         (README: the project's README.md; `make bench-readme`)
    table.py --from-runs DIR             write DIR/results.tsv again from DIR/results-runs.tsv (every
                                         round's values), keeping its facts, notes and errors: for a
                                         run whose results.tsv a table could not be made from

RESULTS is a results directory (build/bench by default) or its results.tsv. bench.py writes
results.tsv (write_tsv) and results.md (markdown) at the end of every run, so a table can be made
again later from the file alone.

results.tsv: first the run's facts, one "# key: value" line each (date, commit, dirty, cpu, qemu,
rounds and quick are required; notes as "# note: ..." lines), then a header line and one line per
(workload, metric), tab-separated. Columns: workload, metric, then the median of every system
(pollux first, then each Linux configuration), ratio (pollux / the better Linux of the row) and
against (which Linux that is), then each system's lowest and highest round (SYSTEM_min,
SYSTEM_max) and its socket errors over the row's runs (SYSTEM_errors). An empty cell is a value
that was not measured. A malformed file is refused with its line and what is wrong (TableError).
"""
import math
import os
import re
import sys
import textwrap

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SYSTEMS = ("pollux", "linux", "linux-lat")
LABELS = {"pollux": "Pollux", "linux": "Linux", "linux-lat": "Linux, latency-tuned"}
REQUIRED_FACTS = ("date", "commit", "dirty", "cpu", "qemu", "rounds", "quick")
BEGIN, END = "<!-- bench-table begin", "<!-- bench-table end -->"
BEGIN_LINE = (BEGIN + ": made by `make bench-readme` (scripts/bench/table.py) from a run's results.tsv; "
              "an edit here is overwritten -->")


class TableError(Exception):
    pass


def lower_is_better(metric):
    """Latency, memory, seconds to download, connections held: Pollux ahead below 1."""
    return metric.endswith(" ms") or "bytes" in metric or metric.startswith("s to") or "TIME_WAIT" in metric


def compare(metric, pollux, linuxes):
    """(ratio, against): Pollux's median over the better of the Linux medians {system: value or None}
    (the higher, or the lower where lower is better; the first on a tie); (None, None) when either
    side is missing, (None, against) when the better Linux is 0."""
    have = [(s, v) for s, v in linuxes.items() if v is not None]
    if pollux is None or not have:
        return None, None
    pick = min if lower_is_better(metric) else max
    against, v = pick(have, key=lambda sv: sv[1])
    return (pollux / v if v else None), against


def columns(systems):
    return (["workload", "metric", *systems, "ratio", "against"]
            + [f"{s}_{k}" for s in systems for k in ("min", "max")] + [f"{s}_errors" for s in systems])


def _num(v):
    return "" if v is None else repr(round(v, 3))


def write_tsv(path, facts, rows, systems=SYSTEMS, notes=()):
    """facts: [(key, value)] in order; rows: [{"workload", "metric", "values": {system: [round
    values]}, "errors": {system: n}}]. Medians, the ratio and what it is against are computed here."""
    import statistics
    with open(path, "w") as f:
        f.write("# make bench results (scripts/bench/bench.py); scripts/bench/table.py makes the table\n")
        for k, v in facts:
            f.write(f"# {k}: {' '.join(str(v).split())}\n")
        for n in notes:
            f.write(f"# note: {' '.join(str(n).split())}\n")
        f.write("\t".join(columns(systems)) + "\n")
        for r in rows:
            vals = {s: r["values"].get(s) or [] for s in systems}
            # the medians as written (3 places): the ratio and its Linux are what the file's own
            # medians give, a tie there going to the first Linux as read_tsv checks it
            med = {s: round(statistics.median(v), 3) if v else None for s, v in vals.items()}
            ratio, against = compare(r["metric"], med[systems[0]], {s: med[s] for s in systems[1:]})
            cells = [r["workload"], r["metric"], *(_num(med[s]) for s in systems), _num(ratio), against or ""]
            cells += [_num(f(vals[s])) if vals[s] else "" for s in systems for f in (min, max)]
            cells += [str(r.get("errors", {}).get(s, 0)) for s in systems]
            f.write("\t".join(cells) + "\n")


def read_tsv(path):
    """(facts {key: value}, notes [str], systems, rows [dict]) from a results.tsv; TableError names the
    line and the fault of a malformed one."""
    facts, notes, header, rows = {}, [], None, []
    try:
        lines = open(path).read().split("\n")
    except OSError as e:
        raise TableError(f"{path}: {e.strerror}")
    if lines and lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines, 1):
        where = f"{path}:{i}"
        if header is None and line.startswith("#"):
            m = re.match(r"#\s*(\w[\w -]*?):\s?(.*)$", line)
            if m and m.group(1) == "note":
                notes.append(m.group(2))
            elif m:
                facts[m.group(1)] = m.group(2).strip()
            continue
        if header is None:
            header = line.split("\t")
            systems = [c for c in header[2:] if c + "_errors" in header and "_" not in c]
            if header[:2] != ["workload", "metric"] or len(systems) < 2 or systems[0] != "pollux":
                raise TableError(f"{where}: not a results.tsv header (workload, metric, pollux, a Linux "
                                 f"configuration, ..., each with its _errors column): {line[:120]!r}")
            want = columns(systems)
            missing = [c for c in want if c not in header]
            if missing:
                raise TableError(f"{where}: the header lacks the column(s) {', '.join(missing)} (a results.tsv "
                                 f"of an older bench.py? Columns expected: {' '.join(want)})")
            continue
        if line.startswith("#") or not line.strip():
            raise TableError(f"{where}: a comment or blank line among the rows")
        cells = line.split("\t")
        if len(cells) != len(header):
            raise TableError(f"{where}: {len(cells)} tab-separated fields, the header has {len(header)}")
        c = dict(zip(header, cells))
        if not c["workload"] or not c["metric"]:
            raise TableError(f"{where}: no workload or metric")
        row = {"workload": c["workload"], "metric": c["metric"], "med": {}, "min": {}, "max": {}, "errors": {}}
        for s in systems:
            for k, col in (("med", s), ("min", f"{s}_min"), ("max", f"{s}_max")):
                row[k][s] = _float(c[col], where, col)
            try:
                row["errors"][s] = int(c[f"{s}_errors"])
            except ValueError:
                raise TableError(f"{where}: {s}_errors is {c[s + '_errors']!r}, not a count")
            if row["errors"][s] < 0:
                raise TableError(f"{where}: {s}_errors is negative")
        row["ratio"] = _float(c["ratio"], where, "ratio")
        row["against"] = c["against"] or None
        if row["against"] is not None and row["against"] not in systems[1:]:
            raise TableError(f"{where}: against is {c['against']!r}, not one of {', '.join(systems[1:])}")
        ratio, against = compare(row["metric"], row["med"]["pollux"], {s: row["med"][s] for s in systems[1:]})
        if against != row["against"] or (ratio is None) != (row["ratio"] is None) or (
                ratio is not None and abs(ratio - row["ratio"]) > 0.002 + 0.01 * abs(ratio)):
            raise TableError(f"{where}: ratio {c['ratio'] or '(none)'} against {c['against'] or '(none)'}, but the "
                             f"medians give {'none' if ratio is None else f'{ratio:.3f}'} against {against or 'none'}")
        rows.append(row)
    if header is None:
        raise TableError(f"{path}: no header line (workload, metric, ...)")
    lacking = [k for k in REQUIRED_FACTS if k not in facts]
    if lacking:
        raise TableError(f"{path}: no '# {lacking[0]}: ...' line (it needs {', '.join(lacking)}; "
                         f"bench.py writes them at the top)")
    for k in ("rounds",):
        if not re.fullmatch(r"\d+", facts[k]):
            raise TableError(f"{path}: '# {k}: {facts[k]}' is not a count")
    for k in ("quick",):
        if facts[k] not in ("yes", "no"):
            raise TableError(f"{path}: '# {k}: {facts[k]}' is not yes or no")
    if not re.match(r"(no|yes)\b", facts["dirty"]):
        raise TableError(f"{path}: '# dirty: {facts['dirty']}' does not start with yes or no")
    return facts, notes, systems, rows


def _float(v, where, col):
    if v == "":
        return None
    try:
        x = float(v)
    except ValueError:
        raise TableError(f"{where}: {col} is {v!r}, not a number")
    if not math.isfinite(x):
        raise TableError(f"{where}: {col} is {v!r}, not a finite number")
    return x


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def label(workload):
    """The README's name of a workload (the name in results.tsv when none fits)."""
    rules = [
        (r"http-keepalive-64B", "HTTP keep-alive, 64 B"),
        (r"http-keepalive-64B-ipv6", "HTTP keep-alive, 64 B over IPv6"),
        (r"http-keepalive-16KiB", "HTTP keep-alive, 16 KiB"),
        (r"http-keepalive-64B-(\d+)conn", lambda m: f"HTTP keep-alive, 64 B, {int(m[1]):,} connections"),
        (r"http-keepalive-64B-(\d+)vCPU-1queue", lambda m: f"{m[1]} vCPUs, one queue (steering / RPS)"),
        (r"http-keepalive-64B-(\d+)vCPU-(\d+)queue", lambda m: f"{m[1]} vCPUs, one queue per core"),
        (r"http-static-file-(\d+)(KiB|MiB)", lambda m: f"site file {m[1]} {m[2]}, keep-alive"),
        (r"http-latency-64B-(\d+)conn-(\d+)ms",
         lambda m: f"HTTP latency at fixed load, 64 B ({m[1]} connections, {m[2]} ms between requests)"),
        (r"http-idle-keepalive-(\d+)conn", lambda m: f"memory per idle keep-alive connection ({int(m[1]):,} held)"),
        (r"http-conn-per-request-64B", "HTTP, new connection per request"),
        (r"http-conn-per-request-64B-ports-reused", "the same again at once (ports reused)"),
        (r"http-conn-per-request-64B-(\d+)conn", lambda m: f"the same with {m[1]} connections (wrk)"),
        (r"http-conn-per-request-64B-ab-(\d+)conn", lambda m: f"the same with {m[1]} clients of ab (HTTP/1.0)"),
        (r"http-conn-per-request-64B-(\d+)s", lambda m: f"new connection per request, {m[1]} s without a pause"),
        (r"soak-keepalive-with-churn-(\d+)s", lambda m: f"{m[1]} s soak: keep-alive with churn beside it"),
        (r"udp-echo-64B", "UDP echo, 64 B"),
        (r"udp-echo-64B-vs-testpmd", "UDP echo, 64 B, against testpmd (DPDK, in the Linux column)"),
        (r"udp-rtt-64B", "UDP round trip at low load, 64 B (one in flight, 1 ms between)"),
        (r"udp-rtt-64B-vs-testpmd", "the same against testpmd (in the Linux column): the device's floor"),
        (r"path-delay-(\d+)ms", lambda m: f"path delayed {m[1]} ms (QEMU filter-buffer)"),
        (r"http-file-(\d+)(MiB|MB)-delay(\d+)ms(?:-loss(\d+)pct)?",
         lambda m: f"{m[1]} {m[2]}, delay {m[3]} ms" + (f", {m[4]}% loss each way" if m[4] else "")),
    ]
    for rx, name in rules:
        m = re.fullmatch(rx, workload)
        if m:
            return name if isinstance(name, str) else name(m)
    return workload


def cell(row, s):
    v = row["med"][s]
    if v is None:
        return "-"
    text = fmt(v)
    lo, hi = row["min"][s], row["max"][s]
    if lo is not None and hi is not None and (lo != v or hi != v):
        text += f" [{fmt(lo)}..{fmt(hi)}]"
    if s == "linux" and row["workload"].endswith("-vs-testpmd"):
        text = "testpmd " + text
    return text + (" !" if row["errors"][s] else "")


def markdown(facts, notes, systems, rows):
    """The facts of the run in a paragraph, the table, then a line for each row with socket errors
    and each note."""
    f = facts
    quick = " (`BENCH_QUICK=1`)" if f["quick"] == "yes" else ""
    dirty = "" if f["dirty"].startswith("no") else ", with uncommitted changes" + (
        f" ({f['dirty'][3:].strip(' :')})" if f["dirty"][3:].strip(" :") else "")
    rounds = int(f["rounds"])
    parts = [f"Run of {f['date']}, commit `{f['commit'][:12]}`{dirty}"]
    host = f.get("host")
    parts.append(f"host {'`' + host + '` ' if host else ''}({f['cores'] + ' cores, ' if 'cores' in f else ''}{f['cpu']})")
    parts.append(f["qemu"].replace("QEMU emulator version ", "QEMU ") + (f", {f['accel']}" if "accel" in f else ""))
    if "vcpus" in f:
        parts.append(f"{f['vcpus']} vCPU" + (f", {f['mem']}" if "mem" in f else ""))
    per = f" of {f['seconds']} s" + (f" (+{f['warmup']} s warm-up)" if "warmup" in f else "") if "seconds" in f else ""
    parts.append(f"{rounds} round{'s' if rounds != 1 else ''}{per}{quick}")
    if f.get("soak_s") not in (None, ""):
        parts.append("no soak" if f["soak_s"] == "0" else f"a {f['soak_s']} s soak in the first round")
    if f.get("steer") == "no":
        parts.append("no steering rows (`BENCH_STEER=0`)")
    if f.get("only"):
        parts.append(f"only the sessions matching `BENCH_ONLY=\"{f['only']}\"`")
    if f.get("workloads"):
        parts.append(f"only the workloads matching `BENCH_WORKLOADS=\"{f['workloads']}\"`")
    if "kernel" in f:
        parts.append(f"Linux {f['kernel']}")
    if "duration_s" in f:
        parts.append(f"{f['duration_s']} s in all")
    if "load" in f:
        parts.append(f"host load average (1 min) {f['load']}")
    out = [", ".join(parts) + "."]
    for s in systems[1:]:
        if f"system {s}" in f:
            out.append(f"{LABELS.get(s, s)}: {f['system ' + s]}.")
    out.append(f"Each cell: the median of the rounds{' [lowest..highest]' if rounds > 1 else ''}; `!`: the row's "
               "runs had socket errors. Ratio: Pollux / the better Linux of the row (against: which); for "
               "latency, bytes, seconds to download and TIME_WAIT lower is better.")
    head = ["workload", "metric", *(LABELS.get(s, s) for s in systems), "ratio", "against"]
    table = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    last = None
    for r in rows:
        name = label(r["workload"]) if r["workload"] != last else ""
        last = r["workload"]
        against = LABELS.get(r["against"], r["against"] or "-")
        if r["against"] == "linux" and r["workload"].endswith("-vs-testpmd"):
            against = "testpmd"
        cells = [name, r["metric"], *(cell(r, s) for s in systems),
                 "-" if r["ratio"] is None else fmt(r["ratio"]), against]
        table.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    text = wrap(" ".join(out)) + "\n\n" + "\n".join(table) + "\n"
    tail = []
    for r in rows:
        for s in systems:
            if r["errors"][s]:
                tail.append(f"- `!` {label(r['workload'])}, {r['metric']}, {LABELS.get(s, s)}: {r['errors'][s]:,} "
                            "socket errors over its runs (wrk: connect, read, write, timeout); its value counts "
                            "only the answers that came.")
    tail += [f"- note: {n}" for n in notes]
    if tail:
        text += "\n" + "\n".join(wrap(t, "  ") for t in tail) + "\n"
    return text


def wrap(text, indent=""):
    return "\n".join(textwrap.wrap(text, 100, subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False))


def results_path(arg):
    return os.path.join(arg, "results.tsv") if os.path.isdir(arg) else arg


def table_of(arg):
    return markdown(*read_tsv(results_path(arg)))


def rewrite_readme(readme, text):
    """Replace what lies between the markers in readme with text."""
    lines = open(readme).read().split("\n")
    begins = [i for i, l in enumerate(lines) if l.startswith(BEGIN)]
    ends = [i for i, l in enumerate(lines) if l.strip() == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise TableError(f"{readme}: needs one line starting {BEGIN!r} and, after it, one {END!r} "
                         f"(found {len(begins)} and {len(ends)})")
    new = lines[:begins[0]] + [BEGIN_LINE, "", *text.rstrip("\n").split("\n"), ""] + lines[ends[0]:]
    with open(readme, "w") as f:
        f.write("\n".join(new))


def from_runs(d):
    """Rewrite d/results.tsv from d/results-runs.tsv (workload, metric, system, the rounds' values
    comma-separated), keeping the facts, notes, rows' order and socket errors of d/results.tsv."""
    tsv, runs = os.path.join(d, "results.tsv"), os.path.join(d, "results-runs.tsv")
    facts, notes, header = [], [], None
    errors, order = {}, []
    for line in open(tsv).read().split("\n"):
        if header is None and line.startswith("# note: "):
            notes.append(line[len("# note: "):])
        elif header is None and line.startswith("#"):
            m = re.match(r"#\s*(\w[\w -]*?):\s?(.*)$", line)
            if m:
                facts.append((m.group(1), m.group(2)))
        elif header is None:
            header = line.split("\t")
        elif line:
            c = dict(zip(header, line.split("\t")))
            order.append((c["workload"], c["metric"]))
            errors[order[-1]] = {s: int(c[f"{s}_errors"] or 0) for s in SYSTEMS}
    values = {}
    for line in open(runs).read().split("\n")[1:]:
        if line:
            wl, metric, system, vals = line.split("\t")
            values.setdefault((wl, metric), {})[system] = [float(v) for v in vals.split(",") if v]
    if header is None or set(values) != set(order):
        raise TableError(f"{runs}: not the rows of {tsv}")
    write_tsv(tsv, facts, [{"workload": wl, "metric": m, "values": values[(wl, m)], "errors": errors[(wl, m)]}
                           for wl, m in order], notes=notes)


def main(argv):
    args = list(argv)
    readme = None
    if len(args) == 2 and args[0] == "--from-runs":
        try:
            from_runs(args[1])
            print(f"table.py: {os.path.join(args[1], 'results.tsv')} written again from results-runs.tsv")
        except (TableError, OSError, ValueError, KeyError) as e:
            sys.exit(f"table.py: error: {e}")
        return
    if args and args[0] == "--readme":
        args.pop(0)
        readme = args.pop(0) if len(args) == 2 else os.path.join(ROOT, "README.md")
    if len(args) > 1 or any(a.startswith("-") for a in args):
        sys.exit(__doc__)
    src = args[0] if args else os.path.join(ROOT, "build", "bench")
    try:
        text = table_of(src)
        if readme:
            rewrite_readme(readme, text)
            print(f"table.py: {readme}: the bench table rewritten from {results_path(src)}")
        else:
            sys.stdout.write(text)
    except (TableError, OSError) as e:
        sys.exit(f"table.py: error: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
