"""The machinery the seven suites share: statistics and formatting helpers, the queue
classification by registry name, the Findings text, the Data of one suite, the findings.md
header and summary (write_findings), and the Suite base class each suite module subclasses."""

import collections
import datetime
import math
import os
import re
import statistics

import qbcsv
from qbcsv import InputError

MAX_LISTED = 12  # non-ok rows named in findings.md


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
    extra = tuple(raw(r, c) for c in ("fanout", "tree_depth", "keys"))
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
# The suite base class


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
