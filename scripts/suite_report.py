#!/usr/bin/python3
"""Findings (Markdown) and figures (PNG) for one `qbench suite NAME` experiment.

    scripts/suite_report.py NAME RESULTS.csv [--timeseries TS.csv] --out DIR [--command TEXT]

NAME is one of: idle, wakeups, burst, sizing, shutdown, stealing, mailboxes. Writes
DIR/findings.md and these figures in DIR/figures/ (always the same names whatever the data; a
figure without data says so in its body), and prints the paths written, one per line:
  idle        idle_cpu.png idle_latency.png idle_oversubscribed.png
  wakeups     wakeups_per_item.png wakeups_throughput.png
  burst       burst_depth.png burst_rss.png burst_latency.png
  sizing      sizing_drops.png
  shutdown    shutdown_latency.png
  stealing    stealing_throughput.png stealing_cpu.png
  mailboxes   mailboxes_throughput.png mailboxes_reorders.png

findings.md names the machine, commit, command and date, quotes the textbook claim the suite
tests, then states what the CSV shows. Every number, comparison word and ranking in it is
computed from the CSV: repetitions are aggregated by their median (rows with rep < 0 are
warm-ups and are ignored), only rows with verdict ok enter the medians, and the other rows are
listed (the wakeups suite counts its stalled runs, the burst suite reports its memory_cap run).
The column meanings are in results/README.md.

The time series (--timeseries) is read by the burst suite only (it needs it); the others accept
and ignore it. Bad input (a missing file or column, an unknown suite, no rows for the suite): one
line on stderr, exit code 2, nothing written. Without python3-matplotlib, findings.md is written
and the script exits 1.
"""

import argparse
import collections
import datetime
import math
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qbcsv  # noqa: E402
from qbcsv import InputError  # noqa: E402

PROG = "suite_report.py"
COLLAPSE_PCT = 50.0  # a queue keeping less than this % of its base throughput "collapsed"
DRAIN_FRACTION = 0.01  # "drained" = depth at or below 1% of the run's peak depth
MAX_LISTED = 12  # non-ok rows named in findings.md

# Columns each suite reads beyond those qbcsv.load_results parses. Missing ones: exit 2.
COMMON_NUMERIC = ("offered", "accepted", "lost", "elapsed_s")


# --------------------------------------------------------------------------------------------
# Small helpers: statistics and formatting


def _values(rows, key):
    get = key if callable(key) else (lambda r: r.get(key))
    out = []
    for r in rows:
        v = get(r)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        out.append(v)
    return out


def med(rows, key):
    v = _values(rows, key)
    return statistics.median(v) if v else None


def vmax(rows, key):
    v = _values(rows, key)
    return max(v) if v else None


def vmin(rows, key):
    v = _values(rows, key)
    return min(v) if v else None


def per_item(column):
    """A key function: column / consumed of a row (None when either is missing or 0 items)."""
    def get(r):
        v, n = r.get(column), r.get("consumed")
        return v / n if v is not None and n else None
    return get


def group(rows, key):
    out = collections.OrderedDict()
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


def unique(items):
    return list(dict.fromkeys(items))


def is_ok(r):
    return r["verdict"] == "ok"


def fmt_rate(v, unit="/s"):
    return "n/a" if v is None else qbcsv.si(v) + unit


def fmt_ns(v):
    return "n/a" if v is None else qbcsv.duration_ns(v)


def fmt_s(v):
    return "n/a" if v is None else qbcsv.duration_ns(v * 1e9)


def fmt_num(v):
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    return f"{v:.3g}"


def fmt_cores(v):
    return "n/a" if v is None else f"{fmt_num(v)} cores"


def fmt_pct(v):
    """A percentage (already x100): 97.3%, 3.2%, 0.41%, 100%."""
    if v is None:
        return "n/a"
    if v == 0:
        return "0%"
    if abs(v) < 0.01:
        return "<0.01%"
    return f"{v:.3g}%"


def fmt_ratio(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}x"
    return f"{v:.3g}x"


def fmt_count(v):
    if v is None:
        return "n/a"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.1f}"
    v = int(v)
    return f"{v:,}" if abs(v) < 10**6 else qbcsv.si(v)


def fmt_mib(v):
    return "n/a" if v is None else f"{v / 2**20:.3g} MiB"


def more_less(a, b, more="more", less="less", same="as much as"):
    return more if a > b else less if a < b else same


def plural(n, word, words=None):
    return f"{fmt_count(n)} {word if n == 1 else (words or word + 's')}"


def reps_text(counts):
    counts = [c for c in counts if c]
    if not counts:
        return "0 repetitions"
    lo, hi = min(counts), max(counts)
    n = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return f"{n} repetition{'s' if hi != 1 else ''}"


def shape_of(r):
    return (r["producers"], r["consumers"])


def shape_text(shape, rows):
    """'1x2*' when any of the rows at that shape was oversubscribed."""
    over = any(r["oversubscribed"] == 1 for r in rows if shape_of(r) == shape)
    return f"{shape[0]}x{shape[1]}" + ("*" if over else "")


def capacity_text(text):
    return "unbounded" if text in ("", "unbounded") else f"capacity {text}"


def raw(r, column):
    return r["_raw"].get(column, "")


# --------------------------------------------------------------------------------------------
# Queue classification (by registry name)

CV_FAMILY = ("mutex_cv", "split_cv", "moodycamel_blocking")


def inner_queue(name):
    return name[len("sharded:"):] if name.startswith("sharded:") else name


def queue_kind(name):
    """'spinning', 'yielding', 'sleep-polling', 'parking', 'condition variable',
    'work stealing' or 'other', from the queue's registry name."""
    name = inner_queue(name)
    if "+" in name:
        strategy = name.rsplit("+", 1)[1]
        if strategy == "spin":
            return "spinning"
        if strategy == "yield":
            return "yielding"
        if strategy.startswith("sleep:"):
            return "sleep-polling"
        if strategy == "park":
            return "parking"
        return "other"
    if name.startswith(CV_FAMILY):
        return "condition variable"
    if name.startswith("ws_"):
        return "work stealing"
    return "other"


def sleep_interval_ns(name):
    m = re.search(r"\+sleep:(\d+)$", name)
    return int(m.group(1)) * 1000 if m else None


KIND_ORDER = ("spinning", "yielding", "sleep-polling", "parking", "condition variable",
              "work stealing", "other")


# --------------------------------------------------------------------------------------------
# Findings text


class Findings:
    """Markdown sections of bullets and tables."""

    def __init__(self):
        self.lines = []

    def section(self, title):
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines += [f"### {title}", ""]

    def bullet(self, text):
        self.lines.append(f"- {text}")

    def table(self, headers, rows):
        if not rows:
            return
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.lines.append("| " + " | ".join(headers) + " |")
        self.lines.append("| " + " | ".join("---" for _ in headers) + " |")
        for row in rows:
            self.lines.append("| " + " | ".join(str(x) for x in row) + " |")
        self.lines.append("")

    def text(self):
        return "\n".join(self.lines).strip("\n")


class Data:
    """The rows of one suite: all, the repetitions (rep >= 0), the ok ones, the time series."""

    def __init__(self, suite, path, rows, ts_rows):
        self.suite = suite
        self.path = path
        self.warmup = [r for r in rows if r["rep"] < 0]
        self.rows = [r for r in rows if r["rep"] >= 0]
        self.ok = [r for r in self.rows if is_ok(r)]
        self.non_ok = [r for r in self.rows if not is_ok(r)]
        self.ts_by_run = collections.OrderedDict()
        for t in ts_rows:
            self.ts_by_run.setdefault(t["run_id"], []).append(t)
        for series in self.ts_by_run.values():
            series.sort(key=lambda t: t["t_s"])

    def context_lines(self):
        machines = unique((r["host"], r["cpu_model"], r["cores"], r["kernel"]) for r in self.rows)
        shas = unique(r["git_sha"] for r in self.rows)
        machine = "; ".join(f"{h} ({m}, {c} cores, {k})" for h, m, c, k in machines)
        return machine, ", ".join(shas)

    def date_text(self):
        stamps = sorted(s for s in unique(r["timestamp"] for r in self.rows) if s)
        if not stamps:
            return "not recorded in the CSV"
        return stamps[0] if len(stamps) == 1 else f"{stamps[0]} to {stamps[-1]}"


def row_text(r, suite):
    parts = [r["queue"], r["workload"], f"{r['producers']}x{r['consumers']}"]
    parts += suite.row_details(r)
    text = " ".join(p for p in parts if p) + f" rep {r['rep']}: {r['verdict']}"
    if r.get("verdict_detail"):
        text += f" ({r['verdict_detail']})"
    return text


def config_key(r):
    extra = tuple(raw(r, c) for c in ("fanout", "depth", "keys"))
    return (r["queue"], r["workload"], shape_of(r), qbcsv.variant_of(r), extra)


def suite_file_header(suite, out_dir):
    """Title and claims from the suite file `qbench suite` copies next to its results
    (OUT/NAME.suite), which is the source of truth; the script's own wording otherwise."""
    path = os.path.join(out_dir, f"{suite.name}.suite")
    title, claims = suite.title, list(suite.claims)
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
    except OSError:
        return title, claims
    file_title = [v.split(":", 1)[1].strip() for v in lines if v.startswith("title:")]
    file_claims = [v.split(":", 1)[1].strip() for v in lines if v.startswith("claim:")]
    return (file_title[-1] if file_title else title), (file_claims or claims)


def write_findings(suite, data, args, body, figure_names):
    machine, sha = data.context_lines()
    title, claims = suite_file_header(suite, args.out)
    lines = [f"# Suite {suite.name}: {title}", ""]
    lines.append(f"- Machine: {machine}")
    lines.append(f"- Commit: {sha}")
    lines.append(f"- Command: `{args.command}`" if args.command else
                 "- Command: not recorded (no --command given)")
    lines.append(f"- Date: {data.date_text()} (run start, from the CSV); findings written "
                 f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    source = os.path.basename(args.results)
    if suite.needs_timeseries:
        source += f" and {os.path.basename(args.timeseries)}"
    lines.append(f"- Data: {source}")
    lines += ["", "## Claim", ""]
    lines += [f"> {claim}" for claim in claims]
    lines += ["", "## Findings", ""]

    counts = collections.Counter(config_key(r) for r in data.ok)
    line = (f"- Medians over {reps_text(counts.values())} per configuration "
            f"({len(data.ok)} of {len(data.rows)} rows with verdict ok")
    if data.warmup:
        line += f"; {plural(len(data.warmup), 'warm-up row')} (rep < 0) ignored"
    lines.append(line + ").")
    if data.non_ok:
        listed = [row_text(r, suite) for r in data.non_ok[:MAX_LISTED]]
        if len(data.non_ok) > MAX_LISTED:
            listed.append(f"and {len(data.non_ok) - MAX_LISTED} more")
        use = suite.non_ok_use
        lines.append(f"- {plural(len(data.non_ok), 'row')} did not end ok and "
                     f"{'stay' if len(data.non_ok) != 1 else 'stays'} out of the medians"
                     + (f" ({use})" if use else "") + ": " + "; ".join(listed) + ".")
    else:
        lines.append("- Every row ended with verdict ok.")
    if suite.ignored:
        lines.append(f"- {suite.ignored}")
    lines += ["", body.text()]
    lines += ["", "## Figures", ""]
    for name in figure_names:
        lines.append(f"![{name}](figures/{name})")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Suites


class Suite:
    name = ""
    title = ""
    claims = ()
    workloads = None  # workloads the suite reads (None: any)
    numeric = ()  # further numeric columns it needs
    text_columns = ()
    needs_timeseries = False
    non_ok_use = ""
    figures = ()

    def __init__(self):
        self.ignored = ""

    def select(self, data_rows, path):
        """The rows this suite reads; the others are named in one sentence."""
        if self.workloads is None:
            return data_rows
        used = [r for r in data_rows if r["workload"] in self.workloads]
        other = [r for r in data_rows if r["workload"] not in self.workloads]
        if not used:
            raise InputError(f"{path}: no rows of workload {' or '.join(self.workloads)} for "
                             f"suite {self.name} (the file has "
                             f"{', '.join(unique(r['workload'] for r in data_rows))})")
        if other:
            counts = collections.Counter(r["workload"] for r in other)
            self.ignored = (f"{plural(len(other), 'row')} of workload "
                            f"{', '.join(sorted(counts))} not read by this suite.")
        return used

    def row_details(self, r):
        return [capacity_text(raw(r, "capacity"))]

    def analyze(self, data, out):
        raise NotImplementedError

    def draw(self, data, name, fig_kit):
        raise NotImplementedError


# ---- 1. idle --------------------------------------------------------------------------------


class Idle(Suite):
    name = "idle"
    title = "what waiting costs: busy-waiting, sleep-polling, condition variables"
    claims = ("Busy-waiting burns the CPU, sleep-polling trades that CPU for latency, and "
              "condition variables wait for free.",)
    workloads = ("steady", "flood")
    figures = ("idle_cpu.png", "idle_latency.png", "idle_oversubscribed.png")

    def row_details(self, r):
        return [fmt_rate(r["rate"]) if r["rate"] else ""]

    @staticmethod
    def trickles(data):
        steady = [r for r in data.ok if r["workload"] == "steady"]
        return group(steady, lambda r: (shape_of(r), raw(r, "rate")))

    def analyze(self, data, out):
        trickles = self.trickles(data)
        if not trickles:
            out.section("Trickle (steady workload)")
            out.bullet("No steady row ended ok: nothing to say about the trickle rate.")
        for (shape, rate_text), rows in trickles.items():
            self._trickle(out, shape, rate_text, rows, data)
        self._flood(out, data)

    def _trickle(self, out, shape, rate_text, rows, data):
        label = f"steady {qbcsv.variant_value_text('rate', rate_text)}, " \
                f"{shape_text(shape, data.rows)}"
        out.section(f"Trickle: {label}")
        stats = []
        for queue, qrows in group(rows, lambda r: r["queue"]).items():
            stats.append(dict(queue=queue, kind=queue_kind(queue), n=len(qrows),
                              cores=med(qrows, "cpu_cores_busy"),
                              per_item=med(qrows, "cpu_ns_per_item"),
                              p50=med(qrows, "latency_p50_ns"), p99=med(qrows, "latency_p99_ns")))
        by_cpu = sorted([s for s in stats if s["cores"] is not None], key=lambda s: s["cores"])
        out.table(("queue", "kind", "reps", "cores busy", "CPU/item", "p50", "p99"),
                  [(s["queue"], s["kind"], s["n"], fmt_num(s["cores"]), fmt_ns(s["per_item"]),
                    fmt_ns(s["p50"]), fmt_ns(s["p99"])) for s in by_cpu])
        if by_cpu:
            out.bullet("CPU burned per second of wall time (cores busy), least first: "
                       + ", ".join(f"{s['queue']} {fmt_cores(s['cores'])}" for s in by_cpu)
                       + ".")
        for column, name in (("p50", "p50"), ("p99", "p99")):
            ranked = sorted([s for s in stats if s[column] is not None], key=lambda s: s[column])
            if ranked:
                out.bullet(f"{name} latency (intended send to pop), lowest first: "
                           + ", ".join(f"{s['queue']} {fmt_ns(s[column])}" for s in ranked)
                           + ".")

        cvs = [s for s in by_cpu if s["kind"] == "condition variable"]
        best_cv = cvs[0] if cvs else None
        if best_cv is None and by_cpu:
            out.bullet("No condition-variable queue ended ok here: no comparison with "
                       "condition variables.")
        spinners = [s for s in by_cpu if s["kind"] in ("spinning", "yielding")]
        for s in spinners:
            if best_cv is None:
                break
            if best_cv["cores"] > 0:
                text = (f"{s['queue']} ({s['kind']}) burned {fmt_cores(s['cores'])}, "
                        f"{fmt_ratio(s['cores'] / best_cv['cores'])} the "
                        f"{fmt_cores(best_cv['cores'])} of {best_cv['queue']}, the cheapest "
                        f"condition-variable queue")
            else:
                text = (f"{s['queue']} ({s['kind']}) burned {fmt_cores(s['cores'])} while "
                        f"{best_cv['queue']}, the cheapest condition-variable queue, burned "
                        f"none measurable")
            if s["cores"] <= best_cv["cores"]:
                text += ("; this disagrees with the claim that busy-waiting burns the CPU: it "
                         "burned no more than a condition variable")
            out.bullet(text + ".")

        sleepers = sorted([s for s in by_cpu if s["kind"] == "sleep-polling"],
                          key=lambda s: (sleep_interval_ns(s["queue"]) or 0, s["queue"]))
        spin_by_base = {s["queue"].rsplit("+", 1)[0]: s for s in by_cpu if s["kind"] == "spinning"}
        for s in sleepers:
            parts = []
            interval = sleep_interval_ns(s["queue"])
            head = f"{s['queue']}" + (f" (polls every {fmt_ns(interval)})" if interval else "")
            spin = spin_by_base.get(s["queue"].rsplit("+", 1)[0])
            if spin is None and spin_by_base:
                spin = min(spin_by_base.values(), key=lambda x: x["cores"])
            text = f"{head} burned {fmt_cores(s['cores'])}"
            if spin is not None:
                saved = spin["cores"] - s["cores"]
                word = more_less(saved, 0, "less", "more")
                text += f", {fmt_num(abs(saved))} cores {word} than {spin['queue']}"
                if spin["cores"] > 0 and saved > 0:
                    text += f" ({fmt_pct(100 * saved / spin['cores'])} saved)"
                elif saved <= 0:
                    text += " (this disagrees with the claim: sleep-polling saved no CPU)"
            if best_cv is not None:
                diff = s["cores"] - best_cv["cores"]
                text += (f"; vs {best_cv['queue']}, the cheapest condition-variable queue: "
                         f"{fmt_num(abs(diff))} cores {more_less(diff, 0)} CPU")
                for column in ("p50", "p99"):
                    if s[column] is not None and best_cv[column] is not None:
                        added = s[column] - best_cv[column]
                        parts.append(f"{column} {fmt_ns(s[column])}, {fmt_ns(abs(added))} "
                                     f"{more_less(added, 0)} than {best_cv['queue']}'s "
                                     f"{fmt_ns(best_cv[column])}")
            if parts:
                text += ", latency " + "; ".join(parts)
                if best_cv["p50"] is not None and s["p50"] is not None \
                        and s["p50"] <= best_cv["p50"]:
                    text += (f"; this disagrees with the claim: polling every "
                             f"{fmt_ns(interval)} added no p50 latency")
            out.bullet(text + ".")

        if best_cv is not None:
            text = (f"Condition variables were {'not free' if best_cv['cores'] > 0 else 'free'}: "
                    f"the cheapest, {best_cv['queue']}, burned {fmt_cores(best_cv['cores'])}")
            if best_cv["cores"] > 0:
                text += f" ({fmt_s(best_cv['cores'])} of CPU per second"
                if best_cv["per_item"] is not None:
                    text += f", {fmt_ns(best_cv['per_item'])} per item, hand-off included"
                text += ")"
            if sleepers:
                cheap = min(sleepers, key=lambda x: x["cores"])
                diff = best_cv["cores"] - cheap["cores"]
                text += (f", {more_less(diff, 0)} than the cheapest sleep poller, "
                         f"{cheap['queue']} ({fmt_cores(cheap['cores'])})")
                if diff > 0:
                    text += (". This disagrees with the claim that condition variables wait "
                             "for free: sleep-polling was cheaper")
            out.bullet(text + ".")
            if best_cv["cores"] > 0 and not sleepers:
                out.bullet(f"This disagrees with the claim that condition variables wait for "
                           f"free: {best_cv['queue']} still burned {fmt_cores(best_cv['cores'])}.")

    def _flood(self, out, data):
        flood = [r for r in data.ok if r["workload"] == "flood"]
        if not flood:
            return
        out.section("Flood: throughput when oversubscribed")
        all_flood = [r for r in data.rows if r["workload"] == "flood"]
        shapes = sorted(unique(shape_of(r) for r in flood), key=qbcsv.shape_sort_key)
        rows_table = []
        comparisons = collections.OrderedDict()  # shape -> [(queue, kind, pct, base, value)]
        base_shape = None
        for queue, qrows in group(flood, lambda r: r["queue"]).items():
            tp = {sh: med([r for r in qrows if shape_of(r) == sh], "throughput_per_s")
                  for sh in shapes}
            tp = {sh: v for sh, v in tp.items() if v is not None}
            if not tp:
                continue
            base = min(tp, key=qbcsv.shape_sort_key)
            base_shape = base_shape or base
            cells = [queue, queue_kind(queue)]
            for sh in shapes:
                cells.append(fmt_rate(tp.get(sh)) if sh in tp else "-")
            rows_table.append(cells)
            for sh, v in tp.items():
                if sh != base and tp[base] > 0:
                    comparisons.setdefault((base, sh), []).append(
                        (queue, queue_kind(queue), 100 * v / tp[base], tp[base], v))
        out.table(["queue", "kind"] + [shape_text(sh, all_flood) + " items/s" for sh in shapes],
                  rows_table)
        cores = unique(r["cores"] for r in flood)
        for (base, sh), items in comparisons.items():
            items.sort(key=lambda x: -x[2])
            over = shape_text(sh, all_flood).endswith("*")
            out.bullet(f"Flood throughput at {shape_text(sh, all_flood)}"
                       + (f" (oversubscribed: {sh[0] + sh[1]} threads on "
                          f"{'/'.join(str(c) for c in cores)} cores)" if over else "")
                       + f" as a % of {shape_text(base, all_flood)}, highest first: "
                       + ", ".join(f"{q} {fmt_pct(p)} ({fmt_rate(b)} -> {fmt_rate(v)})"
                                   for q, _k, p, b, v in items) + ".")
            if not over:
                continue
            spinning = [x for x in items if x[1] in ("spinning", "yielding")]
            collapsed = [x for x in spinning if x[2] < COLLAPSE_PCT]
            if collapsed:
                out.bullet(f"Busy-waiting queues collapsed when oversubscribed at "
                           f"{shape_text(sh, all_flood)} (below {COLLAPSE_PCT:.0f}% of "
                           f"{shape_text(base, all_flood)}): "
                           + ", ".join(f"{q} kept only {fmt_pct(p)}" for q, _k, p, _b, _v in
                                       sorted(collapsed, key=lambda x: x[2])) + ".")
            elif spinning:
                worst = min(spinning, key=lambda x: x[2])
                out.bullet(f"No busy-waiting queue collapsed when oversubscribed at "
                           f"{shape_text(sh, all_flood)}: the worst, {worst[0]}, kept "
                           f"{fmt_pct(worst[2])} of its {shape_text(base, all_flood)} throughput "
                           f"(collapse = below {COLLAPSE_PCT:.0f}%).")
            others = [x for x in items if x[1] not in ("spinning", "yielding")
                      and x[2] < COLLAPSE_PCT]
            if others:
                out.bullet("Other queues below " f"{COLLAPSE_PCT:.0f}% at "
                           f"{shape_text(sh, all_flood)}: "
                           + ", ".join(f"{q} ({k}) {fmt_pct(p)}" for q, k, p, _b, _v in others)
                           + ".")
        if not comparisons:
            out.bullet("Flood rows at a single shape only: no oversubscription comparison.")
        elif not any(shape_text(sh, all_flood).endswith("*") for _b, sh in comparisons):
            out.bullet("No flood shape was oversubscribed on this machine.")

    def draw(self, data, name, kit):
        if name == "idle_cpu.png":
            return self._fig_trickle(data, kit, "cpu")
        if name == "idle_latency.png":
            return self._fig_trickle(data, kit, "latency")
        return self._fig_flood(data, kit)

    def _fig_trickle(self, data, kit, what):
        trickles = self.trickles(data)
        if not trickles:
            return kit.empty("Idle suite: no steady (trickle) row ended ok", data)
        n = len(trickles)
        fig = kit.figure(max(9.5, 2.5 + 0.6 * max(len(unique(r["queue"] for r in rows))
                                                   for rows in trickles.values())),
                         3.6 * n + 1.2)
        axes = fig.subplots(n, 1, squeeze=False)[:, 0]
        for ax, ((shape, rate_text), rows) in zip(axes, trickles.items()):
            kit.style(ax)
            queues = unique(r["queue"] for r in rows)
            qrows = {q: [r for r in rows if r["queue"] == q] for q in queues}
            queues.sort(key=lambda q: (med(qrows[q], "cpu_cores_busy") or 0))
            label = (f"steady {qbcsv.variant_value_text('rate', rate_text)}, "
                     f"{shape_text(shape, data.rows)}")
            if what == "cpu":
                cats = [(q, [("cores busy", qrows[q], "cpu_cores_busy",
                              kit.kind_color(queue_kind(q)))]) for q in queues]
                values = kit.bars(ax, cats, annotate=fmt_num)
                if kit.log_needed(values):
                    kit.log_y(ax, values)
                    ax.set_ylabel("cores busy (CPU s per wall s, log scale)")
                else:
                    ax.set_ylabel("cores busy (CPU s per wall s)")
                ax.set_title(f"{label}: CPU seconds per second of wall time (pacing excluded)",
                             loc="left", fontsize=9)
                kinds = unique(queue_kind(q) for q in queues)
                kit.legend(ax, [kit.patch(kit.kind_color(k), k) for k in
                                sorted(kinds, key=KIND_ORDER.index)])
            else:
                cats = [(q, [("p50", qrows[q], "latency_p50_ns", kit.color(0)),
                             ("p99", qrows[q], "latency_p99_ns", kit.color(1))]) for q in queues]
                values = [v for rows_ in qrows.values() for c in ("latency_p50_ns",
                                                                   "latency_p99_ns")
                          for v in _values(rows_, c)]
                unit, scale = kit.time_unit(values)
                kit.bars(ax, cats, scale=scale, annotate=lambda v: fmt_ns(v * scale))
                kit.log_y(ax, [v / scale for v in values])
                ax.set_ylabel(f"latency, intended send to pop ({unit}, log scale)")
                ax.set_title(f"{label}: latency p50 and p99 per queue (sorted by CPU)",
                             loc="left", fontsize=9)
                kit.legend(ax, [kit.patch(kit.color(0), "p50"), kit.patch(kit.color(1), "p99")])
            ax.set_xlabel("queue")
        title = ("Idle cost: cores kept busy at a trickle rate" if what == "cpu" else
                 "Idle cost: latency at a trickle rate")
        kit.finish(fig, title, "median of the repetitions; whiskers span min to max", data,
                   [r for rows in trickles.values() for r in rows])
        return fig

    def _fig_flood(self, data, kit):
        flood = [r for r in data.ok if r["workload"] == "flood"]
        if not flood:
            return kit.empty("Idle suite: no flood row ended ok", data)
        shapes = sorted(unique(shape_of(r) for r in flood), key=qbcsv.shape_sort_key)
        queues = unique(r["queue"] for r in flood)
        fig = kit.figure(max(9.5, 2.5 + 0.35 * len(queues) * len(shapes)), 5.0)
        ax = fig.add_subplot()
        kit.style(ax)
        all_flood = [r for r in data.rows if r["workload"] == "flood"]
        cats = []
        for q in queues:
            bars = []
            for i, sh in enumerate(shapes):
                rows = [r for r in flood if r["queue"] == q and shape_of(r) == sh]
                bars.append((shape_text(sh, all_flood), rows, "throughput_per_s", kit.color(i)))
            cats.append((q, bars))
        kit.bars(ax, cats, annotate=lambda v: qbcsv.si(v))
        ax.yaxis.set_major_formatter(kit.si_formatter())
        ax.set_ylabel("throughput (items/s consumed)")
        ax.set_xlabel("queue")
        kit.legend(ax, [kit.patch(kit.color(i), "shape " + shape_text(sh, all_flood))
                        for i, sh in enumerate(shapes)], title="producers x consumers")
        kit.finish(fig, "Flood throughput per queue and shape (oversubscription)",
                   "as fast as possible; a busy-waiting queue may collapse when threads "
                   "outnumber cores", data, flood)
        return fig


# ---- 2. wakeups -----------------------------------------------------------------------------


class Wakeups(Suite):
    name = "wakeups"
    title = "wrong-thread wake-ups on a shared condition variable"
    claims = ("notify_one on one condition variable shared by producers and consumers wakes the "
              "wrong kind of thread and can stall; separate not-empty / not-full conditions end "
              "wasted wake-ups.",)
    numeric = ("notifies",)
    non_ok_use = "the stall counts below use them"
    figures = ("wakeups_per_item.png", "wakeups_throughput.png")

    @staticmethod
    def configs(data):
        key = lambda r: (r["workload"], shape_of(r), raw(r, "capacity"))  # noqa: E731
        keys = unique(key(r) for r in data.rows)
        keys.sort(key=lambda k: (k[0], qbcsv.shape_sort_key(k[1]), k[2]))
        return [(k, [r for r in data.rows if key(r) == k]) for k in keys]

    def config_label(self, k, data):
        workload, shape, cap = k
        return f"{workload} {shape_text(shape, data.rows)}, {capacity_text(cap)}"

    def analyze(self, data, out):
        for k, rows in self.configs(data):
            label = self.config_label(k, data)
            out.section(label)
            stats = collections.OrderedDict()
            for queue, qall in group(rows, lambda r: r["queue"]).items():
                q = [r for r in qall if is_ok(r)]
                stats[queue] = dict(
                    n=len(q), all=len(qall),
                    stalled=[r for r in qall if r["verdict"] == "stalled"],
                    wake=med(q, per_item("wakeups")), wasted=med(q, per_item("wasted_wakeups")),
                    wasted_total=sum(_values(q, "wasted_wakeups")),
                    wasted_pct=med(q, lambda r: 100 * r["wasted_wakeups"] / r["wakeups"]
                                   if r["wakeups"] and r["wasted_wakeups"] is not None
                                   else (0.0 if r["wakeups"] == 0 else None)),
                    notifies=med(q, per_item("notifies")), tp=med(q, "throughput_per_s"))
            out.table(("queue", "ok reps", "stalled", "wake-ups/item", "wasted/item",
                       "wasted %", "notifies/item", "items/s"),
                      [(q, s["n"], len(s["stalled"]), fmt_num(s["wake"]), fmt_num(s["wasted"]),
                        fmt_pct(s["wasted_pct"]), fmt_num(s["notifies"]), fmt_rate(s["tp"]))
                       for q, s in stats.items()])
            for queue, s in stats.items():
                if s["n"] == 0:
                    out.bullet(f"{queue}: no repetition ended ok at {label}.")
                    continue
                if s["wake"] is None:
                    out.bullet(f"{queue} does not count wake-ups; {fmt_rate(s['tp'], ' items/s')}.")
                    continue
                text = (f"{queue} woke {fmt_num(s['wake'])} times per item, "
                        f"{fmt_num(s['wasted'])} of them wasted ({fmt_pct(s['wasted_pct'])} of "
                        f"its wake-ups)")
                if s["notifies"] is not None:
                    text += f", notified {fmt_num(s['notifies'])} times per item"
                out.bullet(text + f", {fmt_rate(s['tp'], ' items/s')} (median of "
                                  f"{plural(s['n'], 'rep')}).")
            tps = sorted([(s["tp"], q) for q, s in stats.items() if s["tp"] is not None],
                         reverse=True)
            if len(tps) > 1:
                out.bullet("Throughput, highest first: "
                           + ", ".join(f"{q} {fmt_rate(v)}" for v, q in tps) + ".")
            for queue, s in stats.items():
                if s["stalled"]:
                    details = unique(r.get("verdict_detail", "") for r in s["stalled"])
                    watchdog = all(d.startswith("nothing consumed") for d in details)
                    text = (f"{queue} stalled in {len(s['stalled'])} of {s['all']} reps at "
                            f"{label}; ")
                    text += ("the watchdog ended them" if watchdog else "they ended")
                    text += " (" + "; ".join(d or "no detail" for d in details[:3]) + ")"
                    out.bullet(text + ".")
            if "mutex_cv_one" in stats and not stats["mutex_cv_one"]["stalled"]:
                s = stats["mutex_cv_one"]
                out.bullet(f"mutex_cv_one did not stall in any of its {s['all']} reps at "
                           f"{label}: the hazard did not show in this run.")
            split = stats.get("split_cv")
            if split and split["wasted"] is not None:
                shared = stats.get("mutex_cv")
                if split["wasted_total"] == 0:
                    text = (f"Agrees with the claim: split_cv wasted no wake-up at {label} "
                            f"(0 in {split['n']} reps)")
                else:
                    text = (f"Disagrees with the claim: split_cv still wasted "
                            f"{fmt_num(split['wasted'])} wake-ups per item at {label} "
                            f"({fmt_pct(split['wasted_pct'])} of its wake-ups)")
                if shared and shared["wasted"] is not None:
                    if split["wasted"] > 0 and shared["wasted"] > 0:
                        r_ = shared["wasted"] / split["wasted"]
                        word = "fewer" if r_ > 1 else "more" if r_ < 1 else "as many"
                        factor = r_ if r_ >= 1 else 1 / r_
                        text += (f", {fmt_ratio(factor)} {word} than mutex_cv "
                                 f"({fmt_num(shared['wasted'])} per item)")
                    else:
                        text += (f"; mutex_cv wasted {fmt_num(shared['wasted'])} per item")
                out.bullet(text + ".")

    def draw(self, data, name, kit):
        configs = [(k, [r for r in rows if is_ok(r)]) for k, rows in self.configs(data)]
        configs = [(k, rows) for k, rows in configs if rows]
        if not configs:
            return kit.empty("Wake-ups suite: no row ended ok", data)
        queues = unique(r["queue"] for _k, rows in configs for r in rows)
        fig = kit.figure(max(9.5, 2.5 + 0.5 * len(queues) * len(configs)), 5.2)
        ax = fig.add_subplot()
        kit.style(ax)
        cats = []
        for k, rows in configs:
            label = f"{shape_text(k[1], data.rows)}\n{capacity_text(k[2])}"
            if name == "wakeups_per_item.png":
                bars = [(q, [r for r in rows if r["queue"] == q], per_item("wakeups"),
                         kit.queue_color(q, queues)) for q in queues]
            else:
                bars = [(q, [r for r in rows if r["queue"] == q], "throughput_per_s",
                         kit.queue_color(q, queues)) for q in queues]
            cats.append((label, bars))
        handles = [kit.patch(kit.queue_color(q, queues), q) for q in queues]
        if name == "wakeups_per_item.png":
            kit.bars(ax, cats, annotate=fmt_num)
            over = [(label, [(q, rows_, per_item("wasted_wakeups"), "black")
                             for q, rows_, _c, _col in bars]) for label, bars in cats]
            kit.bars(ax, over, hatch="///", fill=False, whiskers=False)
            handles.append(kit.patch("white", "wasted (hatched, part of the bar)", hatch="///"))
            ax.set_ylabel("wake-ups per consumed item")
            title = "Wake-ups and wasted wake-ups per item"
        else:
            kit.bars(ax, cats, annotate=lambda v: qbcsv.si(v))
            ax.yaxis.set_major_formatter(kit.si_formatter())
            ax.set_ylabel("throughput (items/s consumed)")
            title = "Throughput (ok repetitions)"
            stalled = collections.Counter((r["queue"], r["workload"], shape_of(r),
                                           raw(r, "capacity"))
                                          for r in data.rows if r["verdict"] == "stalled")
            notes = [f"{q} {k[1][0]}x{k[1][1]} {capacity_text(k[2])}: {plural(n, 'stalled rep')}"
                     for (q, *k), n in stalled.items()]
            if notes:
                handles.append(kit.patch("white", "stalled (not drawn): " + "; ".join(notes)))
        ax.set_xlabel("shape (producers x consumers) and capacity")
        kit.legend(ax, handles)
        kit.finish(fig, f"{title} - shared vs split condition variables",
                   f"workload {', '.join(unique(k[0] for k, _r in configs))}; median of the ok "
                   "repetitions, whiskers min to max", data,
                   [r for _k, rows in configs for r in rows])
        return fig


# ---- 3. burst -------------------------------------------------------------------------------


class Burst(Suite):
    name = "burst"
    title = "bounded vs unbounded queues under a burst"
    claims = ("A bounded queue gives backpressure; an unbounded one eats memory until the "
              "process dies.",)
    workloads = ("burst",)
    numeric = ("rss_before_bytes",)
    needs_timeseries = True
    non_ok_use = "a memory_cap run is reported on its own below"
    figures = ("burst_depth.png", "burst_rss.png", "burst_latency.png")

    def row_details(self, r):
        return [self.policy_text(r)]

    @staticmethod
    def policy_key(r):
        return (r["queue"], raw(r, "capacity"), raw(r, "backpressure"),
                raw(r, "push_timeout_s"), raw(r, "burst_s"), raw(r, "peak_rate"),
                raw(r, "rate"), raw(r, "period_s"), shape_of(r))

    @staticmethod
    def policy_text(r):
        text = capacity_text(raw(r, "capacity")) + ", " + (raw(r, "backpressure") or "?")
        if raw(r, "backpressure") == "timeout" and raw(r, "push_timeout_s"):
            text += " " + qbcsv.duration_s(raw(r, "push_timeout_s"))
        return text

    def labels(self, data):
        """A label per policy key, naming the fields that tell the policies apart."""
        keys = unique(self.policy_key(r) for r in data.rows)
        vary = lambda i: len({k[i] for k in keys}) > 1  # noqa: E731
        out = {}
        for k in keys:
            r = next(r for r in data.rows if self.policy_key(r) == k)
            text = self.policy_text(r)
            if vary(0):
                text = f"{k[0]}: " + text
            if vary(4):
                text += f", burst {qbcsv.duration_s(k[4])}"
            if vary(5):
                text += f", peak {qbcsv.variant_value_text('peak_rate', k[5])}"
            if vary(8):
                text += f", {k[8][0]}x{k[8][1]}"
            out[k] = text
        return out

    def run_metrics(self, data, r):
        """Per-run numbers from its time series (None where they cannot be computed)."""
        ts = data.ts_by_run.get(r["run_id"], [])
        m = dict(ts=ts, peak_depth=r["peak_depth"], peak_rss=r["peak_rss_bytes"], windows=None,
                 p99_in=None, p99_after=None, drain=None, drained=None, burst_end=None,
                 growth=None)
        if r["peak_rss_bytes"] is not None and r["rss_before_bytes"] is not None:
            m["growth"] = r["peak_rss_bytes"] - r["rss_before_bytes"]
        if not ts:
            return m
        depth_peak = vmax(ts, "depth")
        if depth_peak is not None:
            m["peak_depth"] = depth_peak
        rss_peak = vmax(ts, "rss_bytes")
        if m["peak_rss"] is None:
            m["peak_rss"] = rss_peak
        lat = lambda t: t["latency_p99_ns"] or None  # noqa: E731  (0 or blank: none consumed)
        inside = [t for t in ts if t["in_burst"] == 1]
        if not inside:
            return m
        # Burst windows as (first, last) sample index. "After the burst" is measured after the
        # last window that has samples after it (a run may end inside a new burst window), up
        # to the next window.
        windows, start = [], None
        for i, t in enumerate(ts):
            if t["in_burst"] == 1 and start is None:
                start = i
            if start is not None and (t["in_burst"] != 1 or i == len(ts) - 1):
                windows.append((start, i if t["in_burst"] == 1 else i - 1))
                start = None
        followed = [w for w in windows if w[1] + 1 < len(ts)]
        chosen = followed[-1] if followed else windows[-1]
        nxt = next((w[0] for w in windows if w[0] > chosen[1]), len(ts))
        m["windows"] = len(windows)
        end = ts[chosen[1]]["t_s"]
        m["burst_end"] = end
        m["p99_in"] = vmax(inside, lat)
        m["p99_after"] = vmax(ts[chosen[1] + 1:nxt], lat)
        if depth_peak is not None:
            limit = DRAIN_FRACTION * depth_peak
            after = [t for t in ts[chosen[1]:nxt] if t["depth"] is not None]
            done = next((t for t in after if t["depth"] <= limit), None)
            m["drained"] = done is not None
            m["drain"] = done["t_s"] - end if done else None
        return m

    def analyze(self, data, out):
        labels = self.labels(data)
        out.section("Per policy")
        missing_ts = [r for r in data.rows if r["run_id"] not in data.ts_by_run]
        if missing_ts:
            out.bullet(f"{plural(len(missing_ts), 'run')} without a time series (latency, drain "
                       f"and depth over time unknown for them): "
                       + "; ".join(row_text(r, self) for r in missing_ts[:MAX_LISTED]) + ".")
        table = []
        growth_bounded, growth_unbounded, bounded_depth = [], [], []
        for key, label in labels.items():
            runs = [r for r in data.ok if self.policy_key(r) == key]
            if not runs:
                continue
            ms = [self.run_metrics(data, r) for r in runs]
            p99_in, p99_after = med(ms, "p99_in"), med(ms, "p99_after")
            drained = [m for m in ms if m["drained"]]
            not_drained = [m for m in ms if m["drained"] is False]
            drain = med(drained, "drain")
            peak_depth, peak_rss = med(ms, "peak_depth"), med(ms, "peak_rss")
            growth = med(ms, "growth")
            rejected, dropped = med(runs, "rejected"), med(runs, "dropped")
            offered = med(runs, "offered")
            (growth_bounded if raw(runs[0], "capacity").isdigit() else growth_unbounded).append(
                (growth, label))
            if raw(runs[0], "capacity").isdigit() and vmax(ms, "peak_depth") is not None:
                # peak_depth counts accepted - consumed: an item a consumer has popped but not
                # finished is still in it, so the bound is capacity + consumers.
                bounded_depth.append((label, int(raw(runs[0], "capacity"))
                                      + int(raw(runs[0], "consumers") or 0),
                                      vmax(ms, "peak_depth")))
            text = f"{label} ({plural(len(runs), 'rep')}"
            windows = max(_values(ms, "windows"), default=1)
            if windows > 1:
                text += (f"; {windows} burst windows per run: 'after' and the drain are measured "
                         f"from the end of the last window followed by samples")
            text += "): p99 latency "
            if p99_in is None and p99_after is None:
                text += "unknown (no latency in the time series)"
            else:
                text += f"{fmt_ns(p99_in)} during the burst and "
                text += (f"{fmt_ns(p99_after)} after it" if p99_after is not None else
                         "none measured after it (no later sample consumed items)")
            if drained and not not_drained and drain == 0:
                drain_text = ("drained by the end of the burst (depth at or below 1% of its peak "
                              "at the last burst sample)")
            elif drained and not not_drained:
                drain_text = f"drained {fmt_s(drain)} after the burst ended"
            elif not_drained and not drained:
                drain_text = "did not drain (depth never fell to 1% of its peak after the burst)"
            elif not_drained:
                drain_text = (f"drained {fmt_s(drain)} after the burst in {len(drained)} reps, "
                              f"did not drain in {len(not_drained)}")
            else:
                drain_text = "drain time unknown"
            text += f"; {drain_text}; peak depth {fmt_count(peak_depth)} items; peak RSS " \
                    f"{fmt_mib(peak_rss)}"
            if growth is not None:
                text += f" (+{fmt_mib(growth)})"
            text += f"; {fmt_count(rejected)} rejected, {fmt_count(dropped)} dropped"
            if offered:
                refused = (rejected or 0) + (dropped or 0)
                text += f" ({fmt_pct(100 * refused / offered)} of {fmt_count(offered)} offered)"
            out.bullet(text + ".")
            table.append((label, len(runs), fmt_ns(p99_in), fmt_ns(p99_after),
                          fmt_s(drain) if drained and not not_drained else
                          ("did not drain" if not_drained else "n/a"),
                          fmt_count(peak_depth), fmt_mib(peak_rss), fmt_count(rejected),
                          fmt_count(dropped)))
        out.table(("policy", "reps", "p99 in burst", "p99 after", "drain", "peak depth",
                   "peak RSS", "rejected", "dropped"), table)
        over = [(label, cap, depth) for label, cap, depth in bounded_depth if depth > cap]
        if over:
            out.bullet("This disagrees with the claim that a bounded queue holds the line: "
                       + "; ".join(f"{label} reached a depth of {fmt_count(depth)} items, "
                                   f"{fmt_count(depth - cap)} over its capacity (plus one item in service "
                                   f"per consumer)"
                                   for label, cap, depth in over) + ".")
        elif bounded_depth:
            top = max(bounded_depth, key=lambda x: x[2])
            out.bullet(f"Backpressure held: every bounded policy kept the queue at or below its "
                       f"capacity plus one item in service per consumer (the deepest, {top[0]}, peaked at {fmt_count(top[2])} of "
                       f"{fmt_count(top[1])} items; no rep went over).")

        out.section("Memory")
        gb = [(g, l) for g, l in growth_bounded if g is not None]
        gu = [(g, l) for g, l in growth_unbounded if g is not None]
        if gb and gu:
            top_b = max(gb)
            top_u = max(gu)
            text = (f"RSS grew by {fmt_mib(top_u[0])} with {top_u[1]}, "
                    f"{fmt_mib(abs(top_u[0] - top_b[0]))} {more_less(top_u[0], top_b[0])} than the "
                    f"most any bounded policy grew ({fmt_mib(top_b[0])}, {top_b[1]})")
            if top_b[0] > 0 and top_u[0] > 0:
                text += f": {fmt_ratio(top_u[0] / top_b[0])}"
            if top_u[0] > top_b[0]:
                text += "; agrees with the claim that an unbounded queue eats memory"
            else:
                text += ("; disagrees with the claim: the unbounded queue did not grow more "
                         "than the bounded ones")
            out.bullet(text + ".")
        elif not gu:
            out.bullet("No ok run of an unbounded queue with RSS numbers: no bounded vs "
                       "unbounded memory comparison.")
        else:
            out.bullet("No ok run of a bounded queue with RSS numbers: no bounded vs "
                       "unbounded memory comparison.")
        capped = [r for r in data.rows if r["verdict"] == "memory_cap"]
        for r in capped:
            ts = data.ts_by_run.get(r["run_id"], [])
            text = f"{labels[self.policy_key(r)]} was stopped by the memory cap"
            if ts:
                last = ts[-1]
                text += (f" {fmt_s(last['t_s'])} after the start (last sample: RSS "
                         f"{fmt_mib(last['rss_bytes'])}, depth {fmt_count(last['depth'])} items)")
            elif r["elapsed_s"] is not None:
                text += f" after {fmt_s(r['elapsed_s'])}"
            if r.get("verdict_detail"):
                text += f": \"{r['verdict_detail']}\""
            out.bullet(text + "; the unbounded queue ate memory until the cap ended the run.")
        if not capped:
            out.bullet("No run hit the memory cap.")

    # figures

    def _plot_runs(self, data, include_capped):
        """(label, color index, results row, time series) of the first ok (or memory_cap) rep
        of each policy."""
        out = []
        for i, (key, label) in enumerate(self.labels(data).items()):
            runs = [r for r in data.rows if self.policy_key(r) == key
                    and (is_ok(r) or (include_capped and r["verdict"] == "memory_cap"))
                    and data.ts_by_run.get(r["run_id"])]
            if not runs:
                continue
            r = min(runs, key=lambda r: (r["verdict"] != "ok", r["rep"]))
            text = label + (" (memory_cap)" if r["verdict"] == "memory_cap" else "")
            out.append((text, i, r, data.ts_by_run[r["run_id"]]))
        return out

    def draw(self, data, name, kit):
        runs = self._plot_runs(data, include_capped=(name == "burst_rss.png"))
        if not runs:
            return kit.empty("Burst suite: no run with a time series", data)
        fig = kit.figure(11.0, 5.2)
        ax = fig.add_subplot()
        kit.style(ax)
        column = {"burst_depth.png": "depth", "burst_rss.png": "rss_bytes"}.get(
            name, "latency_p99_ns")
        series = []
        for label, index, r, ts in runs:
            ys = [t[column] for t in ts]
            if column == "latency_p99_ns":
                ys = [y or None for y in ys]  # 0 or blank: nothing consumed in the interval
            series.append((label, index, ts, [t["t_s"] for t in ts], ys))
        values = [y for *_x, ys in series for y in ys if y is not None]
        if column == "rss_bytes":
            unit, scale = "MiB", float(2**20)
        elif column == "latency_p99_ns":
            unit, scale = kit.time_unit(values)
        else:
            unit, scale = "items", 1.0
        shaded = []
        for label, index, ts, t, ys in series:
            windows = kit.burst_windows(ts)
            if windows and windows not in shaded:
                for lo, hi in windows:
                    ax.axvspan(lo, hi, color="orange" if not shaded else "red",
                               alpha=0.15 if not shaded else 0.07, linewidth=0)
                shaded.append(windows)
            ax.plot(t, [y / scale if y is not None else float("nan") for y in ys],
                    color=kit.color(index), linewidth=1.3, label=label)
        handles, _ = ax.get_legend_handles_labels()
        note = "burst window (in_burst)"
        if len(shaded) > 1:
            note += "; lighter red: a longer run's window"
        handles.append(kit.patch("orange", note, alpha=0.3))
        scaled = [v / scale for v in values]
        if column == "depth":
            caps = sorted({int(raw(r, "capacity")) for *_a, r, _t in runs
                           if raw(r, "capacity").isdigit()})
            for cap in caps:
                ax.axhline(cap, color="0.5", linestyle="-.", linewidth=0.9)
            if caps:
                handles.append(kit.line("0.5", "-.", "capacity " + ", ".join(map(str, caps))))
            title = "Queue depth over time"
        elif column == "rss_bytes":
            caps = set()
            for *_a, r, _t in runs:
                m = re.search(r"--max-rss (\d+) MiB", r.get("verdict_detail", ""))
                if m:
                    caps.add(int(m.group(1)))
            for cap in sorted(caps):
                ax.axhline(cap, color="firebrick", linestyle="--", linewidth=1)
                handles.append(kit.line("firebrick", "--", f"memory cap ({cap} MiB)"))
                scaled.append(cap)
            title = "Resident memory (RSS) over time"
        else:
            title = "Latency p99 over time (items consumed in each sampler interval)"
        what = {"depth": "queue depth", "rss_bytes": "resident memory",
                "latency_p99_ns": "latency p99 per sampler interval"}[column]
        if column == "latency_p99_ns":
            kit.log_y(ax, scaled)
            ax.set_ylabel(f"{what} ({unit}, log scale)")
        elif kit.log_needed(scaled, 200):
            ax.set_yscale("symlog", linthresh=10 if column == "depth" else 1)
            ax.set_ylim(bottom=0)
            ax.set_ylabel(f"{what} ({unit}, symlog scale)")
        else:
            ax.set_ylim(bottom=0)
            ax.set_ylabel(f"{what} ({unit})")
        ax.set_xlabel("time since run start (s)")
        kit.legend(ax, handles, title="policy (one repetition each)")
        kit.finish(fig, title, "workload burst: " + self._workload_text([x[2] for x in runs]),
                   data, [x[2] for x in runs],
                   ["one repetition per policy (the first ok one), not aggregated"])
        return fig

    @staticmethod
    def _workload_text(rows):
        def each(column, text):
            return "/".join(unique(text(raw(r, column)) for r in rows))
        rate = lambda v: qbcsv.variant_value_text("rate", v)  # noqa: E731
        return (f"{each('rate', rate)} base, {each('peak_rate', rate)} for "
                f"{each('burst_s', qbcsv.duration_s)} every "
                f"{each('period_s', qbcsv.duration_s)}, "
                + "/".join(unique(f"{r['producers']}x{r['consumers']}" for r in rows)))


# ---- 4. sizing ------------------------------------------------------------------------------


class Sizing(Suite):
    name = "sizing"
    title = "how large should a bounded queue be"
    claims = ("Size a bounded queue as consumer rate x burst length.",)
    workloads = ("burst",)
    figures = ("sizing_drops.png",)

    @staticmethod
    def config_key(r):
        return (r["queue"], shape_of(r), raw(r, "backpressure"), raw(r, "service_s"),
                raw(r, "burst_s"), raw(r, "peak_rate"), raw(r, "rate"), raw(r, "period_s"))

    def configs(self, data):
        out = collections.OrderedDict()
        for r in data.ok:
            if raw(r, "backpressure") == "drop" and raw(r, "capacity").isdigit():
                out.setdefault(self.config_key(r), []).append(r)
        return out

    def analyze(self, data, out):
        configs = self.configs(data)
        swept = {id(x) for rows in configs.values() for x in rows}
        other = [r for r in data.ok if id(r) not in swept]
        if other:
            out.bullet(f"{plural(len(other), 'ok row')} not swept (backpressure other than drop, "
                       f"or an unbounded capacity) are not read: the sweep counts drops.")
        if not configs:
            out.bullet("No ok row with backpressure drop and a numeric capacity: nothing to "
                       "size.")
        for key, rows in configs.items():
            self._config(out, key, rows, data, len(configs) > 1)

    @staticmethod
    def predictions(rows):
        r = rows[0]
        consumers, service_s = r["consumers"], r["service_s"]
        burst_s, peak = r["burst_s"], r["peak_rate"]
        mu = consumers / service_s if service_s else None
        textbook = mu * burst_s if mu is not None and burst_s is not None else None
        queueing = ((peak - mu) * burst_s if mu is not None and burst_s is not None
                    and peak is not None else None)
        return mu, textbook, queueing

    @staticmethod
    def sweep(rows):
        by_cap = collections.OrderedDict()
        rows = [r for r in rows if r["dropped"] is not None]  # blank: not counted
        for r in sorted(rows, key=lambda r: int(raw(r, "capacity"))):
            by_cap.setdefault(int(raw(r, "capacity")), []).append(r)
        with_drops = [c for c, rs in by_cap.items() if any((r["dropped"] or 0) > 0 for r in rs)]
        without = [c for c, rs in by_cap.items() if all((r["dropped"] or 0) == 0 for r in rs)]
        measured = min(without) if without else None
        largest_drop = max(with_drops) if with_drops else None
        return by_cap, measured, largest_drop

    def _config(self, out, key, rows, data, several):
        queue, shape = key[0], key[1]
        r = rows[0]
        title = f"{queue}, {shape_text(shape, data.rows)}"
        if several:
            title += (f", service {qbcsv.duration_s(key[3])}, burst "
                      f"{qbcsv.duration_s(key[4])}, peak "
                      f"{qbcsv.variant_value_text('peak_rate', key[5])}")
        out.section(title)
        mu, textbook, queueing = self.predictions(rows)
        by_cap, measured, largest_drop = self.sweep(rows)
        if not by_cap:
            out.bullet("The dropped column is blank on every row: nothing to size.")
            return
        out.table(("capacity", "reps", "dropped (median)", "min", "max", "% of offered"),
                  [(c, len(rs), fmt_count(med(rs, "dropped")), fmt_count(vmin(rs, "dropped")),
                    fmt_count(vmax(rs, "dropped")),
                    fmt_pct(med(rs, lambda x: 100 * (x["dropped"] or 0) / x["offered"]
                                if x["offered"] else None)))
                   for c, rs in by_cap.items()])
        if mu is None or textbook is None:
            out.bullet("service_s or burst_s is blank: no prediction can be computed.")
        else:
            service = r["service"] or "?"
            out.bullet(f"Service rate mu = consumers / service_s = {r['consumers']} / "
                       f"{fmt_s(r['service_s'])} = {fmt_count(round(mu, 3))} items/s "
                       f"({service} service time"
                       + (", its mean" if service not in ("fixed", "none") else "")
                       + f"); burst length B = {fmt_s(r['burst_s'])} at peak rate lambda = "
                       f"{fmt_count(r['peak_rate'])} items/s (peak_rate is the total rate "
                       f"during a burst, replacing the base rate of "
                       f"{fmt_count(r['rate'])} items/s).")
            out.bullet(f"Textbook capacity mu x B = {fmt_count(round(mu, 3))} x "
                       f"{fmt_s(r['burst_s'])} = {fmt_count(round(textbook))} items.")
            if queueing is not None:
                out.bullet(f"Queueing prediction (lambda - mu) x B = "
                           f"({fmt_count(r['peak_rate'])} - {fmt_count(round(mu, 3))}) x "
                           f"{fmt_s(r['burst_s'])} = {fmt_count(round(queueing))} items "
                           f"(the excess that must wait).")
        caps = list(by_cap)
        reps = reps_text([len(rs) for rs in by_cap.values()])
        if measured is not None:
            text = (f"Measured: the smallest capacity whose reps all dropped nothing is "
                    f"{fmt_count(measured)} items ({reps} per capacity, capacities "
                    f"{fmt_count(caps[0])}..{fmt_count(caps[-1])})")
        else:
            text = (f"Measured: every capacity up to {fmt_count(caps[-1])} dropped items: the "
                    f"needed capacity is above {fmt_count(caps[-1])}")
        if largest_drop is not None:
            ds = by_cap[largest_drop]
            text += (f"; the largest capacity with drops is {fmt_count(largest_drop)} (median "
                     f"{fmt_count(med(ds, 'dropped'))}, max {fmt_count(vmax(ds, 'dropped'))} "
                     f"dropped)")
        else:
            text += "; no tested capacity dropped anything"
        out.bullet(text + ".")
        if measured is not None and largest_drop is not None and largest_drop > measured:
            out.bullet(f"Not monotonic: capacity {fmt_count(largest_drop)} still dropped items "
                       f"although {fmt_count(measured)} did not (noise between reps); a queue "
                       f"of {fmt_count(next((c for c in caps if c > largest_drop), None))} "
                       f"items is the first beyond every drop.")
        for name, value in (("textbook rule mu x B", textbook),
                            ("queueing prediction (lambda - mu) x B", queueing)):
            if value is None:
                continue
            verdict = self.judge(value, measured, largest_drop)
            text = f"The {name} ({fmt_count(round(value))} items) {verdict}"
            if name.startswith("textbook") and not verdict.startswith(("agreed", "cannot")):
                text += "; this disagrees with the claim"
            elif name.startswith("textbook") and verdict.startswith("agreed"):
                text += "; this agrees with the claim"
            at = by_cap.get(int(round(value)))
            if at is not None:
                text += (f"; at capacity {fmt_count(int(round(value)))} the sweep dropped a median "
                         f"{fmt_count(med(at, 'dropped'))} items")
            out.bullet(text + ".")

    @staticmethod
    def judge(value, measured, largest_drop):
        if largest_drop is not None and value <= largest_drop:
            if measured is not None:
                return (f"under-sized the queue by {fmt_ratio(measured / value)} "
                        f"(measured {fmt_count(measured)})")
            return (f"under-sized the queue by more than "
                    f"{fmt_ratio(largest_drop / value)} (capacity {fmt_count(largest_drop)} "
                    f"still dropped)")
        if measured is not None and value > measured:
            return (f"over-sized the queue by {fmt_ratio(value / measured)} "
                    f"(measured {fmt_count(measured)})")
        if measured is not None and largest_drop is not None:
            return (f"agreed with the measurement within the sweep's resolution (needed: more "
                    f"than {fmt_count(largest_drop)}, at most {fmt_count(measured)})")
        if measured is not None:
            return (f"cannot be checked: it is at most the smallest tested capacity "
                    f"({fmt_count(measured)}), which dropped nothing")
        return ("cannot be checked: it is above every tested capacity and all of them "
                "dropped items")

    def draw(self, data, name, kit):
        configs = self.configs(data)
        if not configs:
            return kit.empty("Sizing suite: no ok row with backpressure drop", data)
        fig = kit.figure(10.5, 5.2)
        ax = fig.add_subplot()
        kit.style(ax)
        handles = []
        names = [f"{k[0]} {k[1][0]}x{k[1][1]}" + (f" service {qbcsv.duration_s(k[3])} burst "
                                                  f"{qbcsv.duration_s(k[4])}"
                                                  if len(configs) > 1 else "")
                 for k in configs]
        for i, (key, rows) in enumerate(configs.items()):
            color = kit.color(i)
            by_cap, measured, _largest = self.sweep(rows)
            caps = list(by_cap)
            st = [qbcsv.stat(_values(rs, "dropped")) for rs in by_cap.values()]
            xs = [c for c, s in zip(caps, st) if s]
            ys = [s.median for s in st if s]
            lo = [s.median - s.lo for s in st if s]
            hi = [s.hi - s.median for s in st if s]
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="-o", color=color, markersize=4, capsize=3,
                        linewidth=1.4)
            handles.append(kit.line(color, "-", f"{names[i]}: dropped (median, min-max)",
                                    marker="o"))
            mu, textbook, queueing = self.predictions(rows)
            for value, style, what in ((measured, "-", "measured (first capacity without "
                                                       "drops)"),
                                       (textbook, "--", "textbook mu x B"),
                                       (queueing, "-.", "queueing (lambda - mu) x B")):
                if value is None:
                    continue
                ax.axvline(value, color=color if len(configs) > 1 else
                           {"--": "tab:purple", "-.": "tab:green", "-": "firebrick"}[style],
                           linestyle=style, linewidth=3.0 if style == "-" else 1.4,
                           alpha=0.45 if style == "-" else 0.95)
                handles.append(kit.line(color if len(configs) > 1 else
                                        {"--": "tab:purple", "-.": "tab:green",
                                         "-": "firebrick"}[style], style,
                                        f"{what} = {fmt_count(round(value))}",
                                        width=3.0 if style == "-" else 1.4,
                                        alpha=0.45 if style == "-" else None))
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.yaxis.set_major_formatter(kit.si_formatter())
        ax.set_xlabel("queue capacity (items)")
        ax.set_ylabel("items dropped per run (drop policy)")
        kit.legend(ax, handles)
        kit.finish(fig, "Dropped items vs queue capacity, with the sizing predictions",
                   "workload burst, backpressure drop; " +
                   Burst._workload_text(next(iter(configs.values()))), data,
                   [r for rows in configs.values() for r in rows],
                   ["median of the repetitions; whiskers span min to max"])
        return fig


# ---- 5. shutdown ----------------------------------------------------------------------------


class Shutdown(Suite):
    name = "shutdown"
    title = "how consumers learn to stop: close, poison pills, poll timeouts"
    claims = ("Shutting consumers down needs close, poison pills or poll timeouts.",)
    numeric = ("shutdown_s", "poll_interval_s")
    text_columns = ("shutdown",)
    figures = ("shutdown_latency.png",)

    def row_details(self, r):
        return [self.mode(r)]

    @staticmethod
    def mode(r):
        mode = r.get("shutdown") or "unknown"
        if mode == "poll":
            interval = raw(r, "poll_interval_s")
            return "poll:" + (qbcsv.duration_s(interval) if interval else "?")
        return mode

    @staticmethod
    def mode_order(rows):
        def key(m):
            if m.startswith("poll:"):
                r = next(x for x in rows if Shutdown.mode(x) == m)
                return (1, r["poll_interval_s"] or 0, m)
            return (0, 0, m)
        return sorted(unique(Shutdown.mode(r) for r in rows), key=key)

    def analyze(self, data, out):
        ok = [r for r in data.ok if r["shutdown_s"] is not None]
        modes = self.mode_order(data.rows)
        out.section("Shutdown latency by mode")
        ranked = []
        for m in modes:
            rows = [r for r in ok if self.mode(r) == m]
            if rows:
                ranked.append((med(rows, "shutdown_s"), vmax(rows, "shutdown_s"), m, rows))
        ranked.sort(key=lambda x: x[0])
        if ranked:
            out.bullet("Shutdown latency (last producer done to last consumer exit) by mode, "
                       "fastest first, median / max over all queues: "
                       + "; ".join(f"{m} {fmt_s(a)} / {fmt_s(b)} "
                                   f"({plural(len(rows), 'run')})" for a, b, m, rows in ranked)
                       + ".")
        else:
            out.bullet("No ok row has a shutdown time.")
        queues = unique(r["queue"] for r in data.rows)
        table = []
        for q in queues:
            cells = [q]
            for m in modes:
                rows = [r for r in ok if r["queue"] == q and self.mode(r) == m]
                cells.append(f"{fmt_s(med(rows, 'shutdown_s'))} / {fmt_s(vmax(rows, 'shutdown_s'))}"
                             if rows else "-")
            table.append(cells)
        out.table(["queue (median / max)"] + modes, table)
        for q in queues:
            per = []
            for m in modes:
                rows = [r for r in ok if r["queue"] == q and self.mode(r) == m]
                v = med(rows, "shutdown_s")
                if v is not None:
                    per.append((v, m))
            if len(per) > 1:
                per.sort()
                out.bullet(f"{q}: fastest mode {per[0][1]} ({fmt_s(per[0][0])}), slowest "
                           f"{per[-1][1]} ({fmt_s(per[-1][0])}).")
        for a, b, m, rows in ranked:
            if not m.startswith("poll:"):
                continue
            interval = rows[0]["poll_interval_s"]
            if not interval:
                continue
            out.bullet(f"{m}: median shutdown {fmt_s(a)} = {fmt_num(a / interval)} of the poll "
                       f"interval, max {fmt_s(b)} = {fmt_num(b / interval)} intervals.")
        out.section("Lost items")
        lost_rows = [r for r in data.rows if (r["lost"] or 0) > 0]
        total = sum(_values(data.rows, "lost"))
        blank = [r for r in data.rows if r["lost"] is None]
        if not lost_rows:
            out.bullet(f"No item was lost: lost sums to 0 over all {len(data.rows)} rows"
                       + (f" ({len(blank)} with lost blank)" if blank else "") + ".")
        else:
            out.bullet(f"Items were lost (lost must be 0): {fmt_count(total)} in total, in "
                       f"{plural(len(lost_rows), 'row')}: "
                       + "; ".join(f"{row_text(r, self)}, lost {fmt_count(r['lost'])}"
                                   for r in lost_rows[:MAX_LISTED]) + ".")
        missing = [r for r in data.ok if r["shutdown_s"] is None]
        if missing:
            out.bullet(f"{plural(len(missing), 'ok row')} without a shutdown time: "
                       + "; ".join(row_text(r, self) for r in missing[:MAX_LISTED]) + ".")

    def draw(self, data, name, kit):
        ok = [r for r in data.ok if r["shutdown_s"] is not None and r["shutdown_s"] > 0]
        if not ok:
            return kit.empty("Shutdown suite: no ok row with a shutdown time", data)
        queues = unique(r["queue"] for r in ok)
        modes = self.mode_order(ok)
        fig = kit.figure(max(9.5, 2.5 + 0.35 * len(queues) * len(modes)), 5.4)
        ax = fig.add_subplot()
        kit.style(ax)
        values = [r["shutdown_s"] * 1e9 for r in ok]
        unit, scale = kit.time_unit(values)
        width = 0.8 / max(len(modes), 1)
        for j, m in enumerate(modes):
            color = kit.color(j)
            for i, q in enumerate(queues):
                rows = [r for r in ok if r["queue"] == q and self.mode(r) == m]
                if not rows:
                    continue
                x = i + (j - (len(modes) - 1) / 2) * width
                ys = [r["shutdown_s"] * 1e9 / scale for r in rows]
                spread = [x + (k - (len(ys) - 1) / 2) * width * 0.5 / max(len(ys), 1)
                          for k in range(len(ys))]
                ax.scatter(spread, ys, s=12, color=color, alpha=0.6, linewidths=0)
                mid = statistics.median(ys)
                ax.plot([x - width * 0.4, x + width * 0.4], [mid, mid], color=color,
                        linewidth=2.2)
        kit.log_y(ax, [v / scale for v in values])
        ax.set_xticks(range(len(queues)))
        ax.set_xticklabels(queues)
        ax.set_xlim(-0.5, len(queues) - 0.5)
        ax.set_xlabel("queue")
        ax.set_ylabel(f"shutdown latency ({unit}, log scale)")
        handles = [kit.patch(kit.color(j), m) for j, m in enumerate(modes)]
        handles.append(kit.line("0.3", "-", "median (bar); dots: one per repetition"))
        kit.legend(ax, handles, title="shutdown mode")
        kit.finish(fig, "Shutdown latency: last producer done to last consumer exit",
                   "per queue and shutdown mode (poll:<interval> = timed pops)", data, ok)
        return fig


# ---- 6. stealing ----------------------------------------------------------------------------


class Stealing(Suite):
    name = "stealing"
    title = "work stealing vs a central queue for spawned work"
    claims = ("Work stealing beats a central queue when workers spawn work.",)
    workloads = ("tree",)
    numeric = ("fanout", "depth", "nodes_per_root", "inline_nodes")
    figures = ("stealing_throughput.png", "stealing_cpu.png")

    def row_details(self, r):
        return [f"fanout {raw(r, 'fanout')} depth {raw(r, 'depth')}"]

    @staticmethod
    def shape_key(r):
        return (r["fanout"], r["depth"], shape_of(r), raw(r, "capacity"))

    def shapes(self, data):
        keys = unique(self.shape_key(r) for r in data.ok)
        keys.sort(key=lambda k: (k[0] or 0, k[1] or 0, qbcsv.shape_sort_key(k[2]), k[3]))
        return keys

    def shape_label(self, key, data, keys):
        fanout, depth, shape, cap = key
        text = f"fanout {fanout}, depth {depth}"
        if len({k[2] for k in keys}) > 1:
            text += f", {shape_text(shape, data.rows)}"
        if len({k[3] for k in keys}) > 1:
            text += f", {capacity_text(cap)}"
        return text

    def analyze(self, data, out):
        keys = self.shapes(data)
        wins, losses = [], []
        if not keys:
            out.bullet("No tree row ended ok: nothing to compare.")
        for key in keys:
            label = self.shape_label(key, data, keys)
            rows = [r for r in data.ok if self.shape_key(r) == key]
            fanout, depth = key[0], key[1]
            npr = med(rows, "nodes_per_root")
            heading = label
            if npr is not None:
                heading += f" ({fmt_count(npr)} nodes per root)"
            out.section(heading)
            if fanout and depth is not None and fanout > 1 and npr is not None:
                expect = (fanout ** (depth + 1) - 1) // (fanout - 1)
                if npr != expect:
                    out.bullet(f"nodes_per_root is {fmt_count(npr)}, not (fanout^(depth+1) - 1) "
                               f"/ (fanout - 1) = {fmt_count(expect)}: check the CSV.")
            stats = []
            for q, qrows in group(rows, lambda r: r["queue"]).items():
                stats.append(dict(queue=q, n=len(qrows), tp=med(qrows, "throughput_per_s"),
                                  cpu=med(qrows, "cpu_ns_per_item"),
                                  inline=med(qrows, "inline_nodes"),
                                  inline_pct=med(qrows, lambda r: 100 * r["inline_nodes"] /
                                                 r["consumed"] if r["inline_nodes"] is not None
                                                 and r["consumed"] else None),
                                  stealing=queue_kind(q) == "work stealing"))
                incomplete = [r for r in qrows if r["nodes_per_root"] and r["accepted"]
                              is not None and r["consumed"] != r["accepted"] *
                              r["nodes_per_root"]]
                if incomplete:
                    out.bullet(f"{q}: {plural(len(incomplete), 'run')} consumed a node count "
                               f"other than roots x nodes_per_root (e.g. rep "
                               f"{incomplete[0]['rep']}: {fmt_count(incomplete[0]['consumed'])} "
                               f"vs {fmt_count(incomplete[0]['accepted'])} x "
                               f"{fmt_count(incomplete[0]['nodes_per_root'])}).")
            ranked = sorted([s for s in stats if s["tp"] is not None], key=lambda s: -s["tp"])
            out.table(("queue", "reps", "nodes/s", "CPU/node", "inline nodes"),
                      [(s["queue"], s["n"], fmt_rate(s["tp"]), fmt_ns(s["cpu"]),
                        f"{fmt_count(s['inline'])} ({fmt_pct(s['inline_pct'])})"
                        if s["inline"] else "0" if s["inline"] == 0 else "n/a")
                       for s in ranked])
            if ranked:
                out.bullet("Nodes per second, most first: "
                           + ", ".join(f"{s['queue']} {fmt_rate(s['tp'])} "
                                       f"({fmt_ns(s['cpu'])} CPU per node)" for s in ranked)
                           + ".")
            central = [s for s in ranked if not s["stealing"]]
            for ws in [s for s in ranked if s["stealing"]]:
                if ws["inline"]:
                    out.bullet(f"{ws['queue']} ran {fmt_count(ws['inline'])} nodes per run "
                               f"inline ({fmt_pct(ws['inline_pct'])} of the nodes).")
                if not central:
                    out.bullet(f"No central queue at {label}: nothing to compare "
                               f"{ws['queue']} with.")
                    continue
                best = central[0]
                r_ = ws["tp"] / best["tp"] if best["tp"] else None
                if r_ is None:
                    continue
                if r_ > 1:
                    word = f"beat the best central queue, {best['queue']}, by {fmt_ratio(r_)}"
                    wins.append(label)
                elif r_ < 1:
                    word = (f"lost to the best central queue, {best['queue']}: "
                            f"{fmt_ratio(r_)} its throughput")
                    losses.append(label)
                else:
                    word = f"tied with the best central queue, {best['queue']}"
                text = (f"{ws['queue']} {word} ({fmt_rate(ws['tp'])} vs {fmt_rate(best['tp'])} "
                        f"nodes)")
                if ws["cpu"] is not None and best["cpu"] is not None:
                    diff = ws["cpu"] - best["cpu"]
                    text += (f"; CPU per node {fmt_ns(ws['cpu'])} vs {fmt_ns(best['cpu'])}, "
                             f"{fmt_ns(abs(diff))} {more_less(diff, 0)}")
                if r_ < 1:
                    text += "; this disagrees with the claim"
                out.bullet(text + ".")
            if ranked and not any(s["stealing"] for s in ranked):
                out.bullet(f"No work-stealing queue ended ok at {label}: nothing to compare.")
        total = len(wins) + len(losses)
        if total:
            out.section("Overall")
            text = f"Work stealing won on {len(wins)} of {total} tree shapes"
            if wins:
                text += f" ({'; '.join(wins)})"
            if losses:
                text += f" and lost on {len(losses)} ({'; '.join(losses)})"
            if not losses:
                text += ": agrees with the claim"
            elif not wins:
                text += ": disagrees with the claim"
            else:
                text += ": the claim held on some shapes only"
            out.bullet(text + ".")

    def draw(self, data, name, kit):
        keys = self.shapes(data)
        if not keys:
            return kit.empty("Stealing suite: no tree row ended ok", data)
        queues = unique(r["queue"] for r in data.ok)
        fig = kit.figure(max(9.5, 2.5 + 0.4 * len(queues) * len(keys)), 5.2)
        ax = fig.add_subplot()
        kit.style(ax)
        column = "throughput_per_s" if name == "stealing_throughput.png" else "cpu_ns_per_item"
        cats = []
        for key in keys:
            rows = [r for r in data.ok if self.shape_key(r) == key]
            cats.append((self.shape_label(key, data, keys).replace(", ", "\n", 1),
                         [(q, [r for r in rows if r["queue"] == q], column,
                           kit.queue_color(q, queues)) for q in queues]))
        if column == "throughput_per_s":
            kit.bars(ax, cats, annotate=lambda v: qbcsv.si(v))
            ax.yaxis.set_major_formatter(kit.si_formatter())
            ax.set_ylabel("throughput (nodes/s)")
            title = "Tree workload: nodes processed per second"
        else:
            values = _values(data.ok, column)
            unit, scale = kit.time_unit(values)
            kit.bars(ax, cats, scale=scale, annotate=lambda v: fmt_ns(v * scale))
            ax.set_ylabel(f"CPU per node ({unit})")
            title = "Tree workload: CPU time per node"
        ax.set_xlabel("tree shape (fanout, depth)")
        kit.legend(ax, [kit.patch(kit.queue_color(q, queues),
                                  q + (" (work stealing)" if queue_kind(q) == "work stealing"
                                       else "")) for q in queues])
        kit.finish(fig, title, "each root spawns a tree of (fanout^(depth+1)-1)/(fanout-1) "
                               "nodes; median of the repetitions, whiskers min to max",
                   data, data.ok)
        return fig


# ---- 7. mailboxes ---------------------------------------------------------------------------


class Mailboxes(Suite):
    name = "mailboxes"
    title = "per-key mailboxes (sharded queues) vs one shared queue"
    claims = ("Actor-style mailboxes (one queue per consumer, items routed by key) remove "
              "shared state.",)
    numeric = ("keys", "key_reorders")
    figures = ("mailboxes_throughput.png", "mailboxes_reorders.png")

    def row_details(self, r):
        return [f"keys {raw(r, 'keys') or '-'}"]

    @staticmethod
    def setting_key(r):
        return (r["workload"], shape_of(r), raw(r, "rate"), raw(r, "capacity"))

    def analyze(self, data, out):
        settings = unique(self.setting_key(r) for r in data.rows)
        beat, lost = [], []
        for setting in settings:
            rows = [r for r in data.ok if self.setting_key(r) == setting]
            workload, shape, rate, cap = setting
            label = f"{workload} {shape_text(shape, data.rows)}"
            if rate:
                label += f" at {qbcsv.variant_value_text('rate', rate)}"
            if len(settings) > 1:
                label += f", {capacity_text(cap)}"
            out.section(label)
            if not rows:
                out.bullet("No row ended ok.")
                continue
            queues = unique(r["queue"] for r in rows)
            sharded = [q for q in queues if q.startswith("sharded:")]
            keys_list = sorted(unique(r["keys"] or 0 for r in rows))
            table = []
            for k in keys_list:
                for q in queues:
                    qr = [r for r in rows if r["queue"] == q and (r["keys"] or 0) == k]
                    if qr:
                        table.append((k or "none", q, len(qr),
                                      fmt_rate(med(qr, "throughput_per_s")),
                                      fmt_ns(med(qr, "cpu_ns_per_item")),
                                      fmt_ns(med(qr, "latency_p99_ns")),
                                      fmt_count(med(qr, "key_reorders"))))
            out.table(("keys", "queue", "reps", "items/s", "CPU/item", "p99", "key reorders"),
                      table)
            if not sharded:
                out.bullet("No sharded queue ended ok here: nothing to compare.")
            for sq in sharded:
                inner = inner_queue(sq)
                partner = inner if inner in queues else next(
                    (q for q in queues if not q.startswith("sharded:")), None)
                for k in keys_list:
                    s_rows = [r for r in rows if r["queue"] == sq and (r["keys"] or 0) == k]
                    p_rows = [r for r in rows if r["queue"] == partner and (r["keys"] or 0) == k]
                    if not s_rows:
                        continue
                    kt = f"keys {k}" if k else "no keys"
                    if not p_rows:
                        out.bullet(f"{kt}: {sq} {fmt_rate(med(s_rows, 'throughput_per_s'))}; no "
                                   f"shared queue to compare with.")
                        continue
                    a, b = med(s_rows, "throughput_per_s"), med(p_rows, "throughput_per_s")
                    if a is None or b is None or b == 0:
                        continue
                    word = "beat" if a > b else "lost to" if a < b else "tied with"
                    text = (f"{kt}: {sq} {word} the shared {partner}: {fmt_rate(a)} vs "
                            f"{fmt_rate(b)} ({fmt_ratio(a / b)})")
                    for column, what in (("cpu_ns_per_item", "CPU per item"),
                                         ("latency_p99_ns", "p99 latency")):
                        x, y = med(s_rows, column), med(p_rows, column)
                        if x is not None and y is not None:
                            text += f"; {what} {fmt_ns(x)} vs {fmt_ns(y)}"
                    if a < b:
                        consumers = shape[1]
                        if k and k < consumers:
                            text += (f"; with {plural(k, 'key')} and {consumers} consumers, at "
                                     f"most {k} of the {consumers} mailboxes get work")
                        lost.append(kt + (f" ({label})" if len(settings) > 1 else ""))
                    elif a > b:
                        beat.append(kt + (f" ({label})" if len(settings) > 1 else ""))
                    out.bullet(text + ".")
            for q in queues:
                qr = [r for r in rows if r["queue"] == q and r["keys"]]
                if not qr or all(r["key_reorders"] is None for r in qr):
                    continue
                if q.startswith("sharded:"):
                    bad = [r for r in qr if (r["key_reorders"] or 0) > 0]
                    if bad:
                        out.bullet(f"FLAG: {q} broke per-key order although it must not (must "
                                   f"be 0): " + "; ".join(
                                       f"keys {r['keys']} rep {r['rep']}: "
                                       f"{fmt_count(r['key_reorders'])} reorders"
                                       for r in bad[:MAX_LISTED]) + ".")
                    else:
                        out.bullet(f"{q} kept per-key order: 0 reorders in all "
                                   f"{plural(len(qr), 'run')}.")
                else:
                    parts = []
                    for k in keys_list:
                        kr = [r for r in qr if r["keys"] == k]
                        if kr:
                            parts.append(f"keys {k}: {fmt_count(med(kr, 'key_reorders'))} "
                                         f"(max {fmt_count(vmax(kr, 'key_reorders'))})")
                    consumers = shape[1]
                    if all((r["key_reorders"] or 0) == 0 for r in qr):
                        out.bullet(f"{q} (shared, {consumers} consumers) kept per-key order: 0 "
                                   f"reorders in all {plural(len(qr), 'run')}.")
                    elif parts:
                        out.bullet(f"{q} (shared, {consumers} consumers) broke per-key order; "
                                   f"median reorders per run: " + ", ".join(parts) + ".")
        if beat or lost:
            out.section("Overall")
            text = f"Sharding beat the shared queue at {len(beat)} of {len(beat) + len(lost)} " \
                   f"key counts"
            if beat:
                text += f" ({', '.join(beat)})"
            if lost:
                text += f" and lost at {len(lost)} ({', '.join(lost)})"
            out.bullet(text + ".")

    def draw(self, data, name, kit):
        rows = [r for r in data.ok if r["keys"]]
        if not rows:
            return kit.empty("Mailboxes suite: no ok row with keys", data)
        queues = unique(r["queue"] for r in rows)
        settings = unique(self.setting_key(r) for r in rows)
        fig = kit.figure(10.5, 5.2)
        ax = fig.add_subplot()
        kit.style(ax)
        handles = []
        if name == "mailboxes_throughput.png":
            for si_, setting in enumerate(settings):
                for q in queues:
                    qr = [r for r in rows if r["queue"] == q and self.setting_key(r) == setting]
                    keys = sorted(unique(r["keys"] for r in qr))
                    st = [qbcsv.stat(_values([r for r in qr if r["keys"] == k],
                                             "throughput_per_s")) for k in keys]
                    pts = [(k, s) for k, s in zip(keys, st) if s]
                    if not pts:
                        continue
                    color = kit.queue_color(q, queues)
                    style = ("-", "--", ":", "-.")[si_ % 4]
                    ax.errorbar([k for k, _ in pts], [s.median for _, s in pts],
                                yerr=[[s.median - s.lo for _, s in pts],
                                      [s.hi - s.median for _, s in pts]],
                                fmt=style, marker="o", markersize=4, capsize=3, color=color)
                    label = q
                    if len(settings) > 1:
                        label += f" ({setting[0]} {setting[1][0]}x{setting[1][1]})"
                    handles.append(kit.line(color, style, label, marker="o"))
            ax.set_xscale("log")
            all_keys = sorted(unique(r["keys"] for r in rows))
            ax.set_xticks(all_keys)
            ax.set_xticklabels([str(k) for k in all_keys])
            ax.xaxis.set_minor_formatter(kit.ticker.NullFormatter())
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(kit.si_formatter())
            ax.set_xlabel("distinct keys (log scale)")
            ax.set_ylabel("throughput (items/s consumed)")
            title = "Throughput vs key count: sharded mailboxes vs a shared queue"
        else:
            keys = sorted(unique(r["keys"] for r in rows))
            cats = [(f"{k}", [(q, [r for r in rows if r["queue"] == q and r["keys"] == k],
                               "key_reorders", kit.queue_color(q, queues)) for q in queues])
                    for k in keys]
            values = kit.bars(ax, cats, annotate=fmt_count)
            if kit.log_needed([v for v in values if v > 0], 50):
                ax.set_yscale("symlog", linthresh=1)
                ax.set_ylabel("items out of per-key order per run (symlog scale)")
            else:
                ax.set_ylabel("items out of per-key order per run")
            ax.set_ylim(bottom=0)
            ax.set_xlabel("distinct keys")
            handles = [kit.patch(kit.queue_color(q, queues), q) for q in queues]
            title = "Per-key order broken (key_reorders): must be 0 for sharded queues"
        kit.legend(ax, handles)
        kit.finish(fig, title, "median of the repetitions; whiskers span min to max", data, rows)
        return fig


SUITES = {cls.name: cls for cls in (Idle, Wakeups, Burst, Sizing, Shutdown, Stealing, Mailboxes)}


# --------------------------------------------------------------------------------------------
# Figures (matplotlib is imported only when they are drawn)


class FigureKit:
    """Shared drawing helpers, in the style of scripts/plot.py."""

    def __init__(self):
        import plot  # noqa: E402  (imports matplotlib)
        from matplotlib import ticker
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        self.plot, self.ticker, self.Line2D, self.Patch = plot, ticker, Line2D, Patch
        self.palette = plot._palette(10) + plot._palette(20)[1::2]

    def figure(self, width, height):
        return self.plot._new_figure(min(width, 22.0), height)

    def style(self, ax):
        self.plot._style_axes(ax)

    def color(self, i):
        return self.palette[i % len(self.palette)]

    def queue_color(self, q, queues):
        return self.color(queues.index(q) if q in queues else 0)

    def kind_color(self, kind):
        return self.color(KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER))

    def patch(self, color, label, hatch=None, alpha=None):
        kwargs = {"facecolor": color, "label": label, "edgecolor": "0.3" if hatch else None}
        if hatch:
            kwargs["hatch"] = hatch
        if alpha is not None:
            kwargs["alpha"] = alpha
        return self.Patch(**kwargs)

    def line(self, color, style, label, marker=None, width=1.5, alpha=None):
        return self.Line2D([], [], color=color, linestyle=style, label=label, marker=marker,
                           linewidth=width, alpha=alpha)

    def legend(self, ax, handles, title=None):
        self.plot._legend_outside(ax, handles=handles, title=title)

    def si_formatter(self):
        return self.plot._si_formatter()

    def time_unit(self, values_ns):
        return self.plot._time_unit(values_ns)

    @staticmethod
    def log_needed(values, ratio=50):
        values = [v for v in values if v is not None and v > 0]
        return len(values) > 1 and max(values) / min(values) > ratio

    def log_y(self, ax, values=()):
        ax.set_yscale("log")
        self.plot._log_ticks(ax.yaxis, list(values))
        ax.yaxis.set_major_formatter(self.ticker.FuncFormatter(
            lambda v, _p: self.plot._plain_number(v)))
        ax.yaxis.set_minor_formatter(self.ticker.NullFormatter())

    def burst_windows(self, ts):
        return self.plot._burst_windows(ts)

    def bars(self, ax, categories, scale=1.0, annotate=None, hatch=None, fill=True,
             whiskers=True):
        """Grouped bars: categories = [(x label, [(bar label, rows, key, color), ...])].
        Each bar is the median of key over rows, whiskers min to max. Returns the values."""
        n = max((len(bars) for _l, bars in categories), default=1)
        width = 0.8 / max(n, 1)
        values = []
        for i, (_label, bars) in enumerate(categories):
            for j, (_name, rows, key, color) in enumerate(bars):
                st = qbcsv.stat(_values(rows, key))
                if st is None:
                    continue
                x = i + (j - (len(bars) - 1) / 2) * width
                y = st.median / scale
                kwargs = dict(color=color if fill else "none", edgecolor="0.2" if hatch else None,
                              hatch=hatch, linewidth=0 if not hatch else 0.6)
                if whiskers and len(rows) > 1:
                    kwargs.update(yerr=[[y - st.lo / scale], [st.hi / scale - y]], capsize=2,
                                  error_kw={"elinewidth": 0.8, "ecolor": "0.25"})
                ax.bar([x], [y], width * 0.92, **kwargs)
                values += [st.lo / scale, st.hi / scale]
                if annotate is not None and fill:
                    ax.annotate(annotate(y), (x, st.hi / scale), textcoords="offset points",
                                xytext=(0, 2), ha="center", va="bottom", fontsize=6.5,
                                rotation=90 if n > 4 else 0, color="0.25")
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels([label for label, _b in categories],
                           rotation=30 if len(categories) > 6 else 0,
                           ha="right" if len(categories) > 6 else "center")
        ax.set_xlim(-0.5, len(categories) - 0.5)
        ax.margins(y=0.12)
        return values

    def footer(self, data, rows, extra=()):
        lines = []
        for host, cpu, sha in unique((r["host"], r["cpu_model"], r["git_sha"]) for r in rows):
            same = [r for r in rows if (r["host"], r["cpu_model"], r["git_sha"]) == (host, cpu,
                                                                                     sha)]
            info = {"host": host, "cpu_model": cpu, "git_sha": sha,
                    "cores": {r["cores"] for r in same if r["cores"] is not None},
                    "compiler": {r["compiler"] for r in same if r["compiler"]},
                    "build_type": {r["build_type"] for r in same if r["build_type"]}}
            lines.append(self.plot.context_line(info))
        if any(r["oversubscribed"] == 1 for r in rows):
            lines.append(self.plot.OVERSUBSCRIBED_NOTE)
        lines.append(f"qbench suite {data.suite.name}; findings in findings.md")
        lines.extend(extra)
        return lines

    def finish(self, fig, title, subtitle, data, rows, extra=()):
        self.plot._finish(fig, title, subtitle, self.footer(data, rows or data.rows, extra))

    def empty(self, message, data):
        fig = self.figure(8.0, 3.0)
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, message + ": no data for this figure", ha="center", va="center",
                fontsize=11, color="0.3")
        self.finish(fig, f"qbench suite {data.suite.name}", "", data, data.rows)
        return fig


# --------------------------------------------------------------------------------------------
# Command line


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: error: {message} (usage: {PROG} NAME RESULTS.csv --out DIR "
              f"[--timeseries TS.csv] [--command TEXT])", file=sys.stderr)
        sys.exit(2)


def parse_args(argv):
    parser = Parser(prog=PROG, description="Findings (Markdown) and figures for one qbench "
                                           "suite: " + ", ".join(SUITES) + ".")
    parser.add_argument("suite", metavar="NAME", help="suite name: " + ", ".join(SUITES))
    parser.add_argument("results", metavar="RESULTS.csv", help="the suite's results CSV")
    parser.add_argument("--timeseries", metavar="TS.csv",
                        help="the suite's time-series CSV (the burst suite needs it)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="directory for findings.md and figures/ (created if missing)")
    parser.add_argument("--command", default="", metavar="TEXT",
                        help="the qbench command line that produced the CSV (quoted in "
                             "findings.md)")
    return parser.parse_args(argv)


def load(args):
    """Reads and checks the input. Returns (suite, data). Raises InputError."""
    suite_class = SUITES.get(args.suite)
    if suite_class is None:
        raise InputError(f"unknown suite {args.suite!r} (known: {', '.join(SUITES)})")
    suite = suite_class()
    rows = qbcsv.load_results([args.results])
    qbcsv.parse_more_columns(rows, numeric=COMMON_NUMERIC + suite.numeric,
                             text=suite.text_columns)
    rows, sanitizer = qbcsv.split_rows(rows)
    if sanitizer and not rows:
        raise InputError(f"{args.results}: every row comes from a sanitizer build "
                         f"({sanitizer[0]['sanitizer']}): its numbers are not results")
    if sanitizer:
        print(f"{PROG}: warning: {len(sanitizer)} row(s) from a sanitizer build ignored",
              file=sys.stderr)
    if not any(r["rep"] >= 0 for r in rows):
        raise InputError(f"{args.results}: no rows with rep >= 0 (only warm-up rows)")
    ts_rows = []
    if suite.needs_timeseries:
        if not args.timeseries:
            raise InputError(f"suite {suite.name} needs --timeseries TS.csv (the time series "
                             f"of its runs)")
        ts_rows = qbcsv.load_timeseries([args.timeseries])
        qbcsv.parse_more_columns(ts_rows, numeric=("consumed", "accepted", "refused"),
                                 required=False)
    used = suite.select([r for r in rows if r["rep"] >= 0], args.results)
    used += [r for r in rows if r["rep"] < 0
             and (suite.workloads is None or r["workload"] in suite.workloads)]
    return suite, Data(suite, args.results, used, ts_rows)


def build_findings(args):
    """Reads the input named by args (from parse_args) and returns (suite, data, the text of
    findings.md). Raises InputError. Draws nothing (the tests call it directly)."""
    suite, data = load(args)
    body = Findings()
    suite.analyze(data, body)
    return suite, data, write_findings(suite, data, args, body, suite.figures)


def main(argv=None):
    args = parse_args(argv)
    try:
        suite, data, text = build_findings(args)
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise InputError(f"--out {args.out}: exists and is not a directory")
        figures_dir = os.path.join(args.out, "figures")
        try:
            os.makedirs(figures_dir, exist_ok=True)
        except OSError as e:
            raise InputError(f"--out {args.out}: cannot create the directory ({e.strerror})")
        path = os.path.join(args.out, "findings.md")
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise InputError(f"{path}: cannot write ({e.strerror})")
        print(path, flush=True)
        try:
            kit = FigureKit()
        except ImportError:
            print(f"{PROG}: error: python3-matplotlib is not installed (scripts/deps.sh --plots "
                  f"installs it); findings.md was written, the figures were not",
                  file=sys.stderr)
            return 1
        for name in suite.figures:
            qbcsv.save_figure(suite.draw(data, name, kit), os.path.join(figures_dir, name))
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
