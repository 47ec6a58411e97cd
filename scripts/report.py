#!/usr/bin/python3
"""One self-contained HTML page from qbench results CSV files.

    scripts/report.py RESULTS.csv [RESULTS.csv ...] --out report.html [--timeseries TS.csv ...]

The page holds the run context, a sortable summary table (click a column header) and every
figure of scripts/plot.py embedded as a PNG data URI: no external resource, it can be mailed or
attached to a CI run as one file. Input checks, verdict and sanitizer handling and exit codes are
those of plot.py (bad input: one line on stderr, exit code 2).
"""

import argparse
import base64
import collections
import datetime
import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot  # noqa: E402
import qbcsv  # noqa: E402
from qbcsv import InputError  # noqa: E402

PROG = "report.py"

SECTIONS = {
    "throughput": ("Throughput",
                   "Items consumed per second for each producer x consumer shape; the dashed "
                   "line is the mean offered rate of a paced workload. A queue below it could "
                   "not keep up."),
    "latency": ("Latency percentile spectrum",
                "Latency from the intended send time, by percentile; each step right is a 10x "
                "rarer tail. Flat = tight distribution; a bend up at 99.9% = rare long stalls. "
                "Compare queues at the same percentile."),
    "cpu": ("CPU cost",
            "CPU of the hand-off per item, and cores kept busy. A queue that busy-waits keeps "
            "cores busy whatever the load."),
    "wakeups": ("Wake-ups",
                "Wake-ups per item for the queues that count them; wasted wake-ups found "
                "nothing to do (thundering herd, spurious or lost races)."),
    "timeline": ("Burst timeline",
                 "One run over time: queue depth, resident memory and per-interval latency, "
                 "burst windows shaded."),
}

COLUMNS = (
    # header, tooltip
    ("queue", "queue (and context / configuration when several are mixed)"),
    ("workload", "steady, burst or flood"),
    ("shape", "producers x consumers; * = more threads than cores"),
    ("reps", "repetitions with verdict ok (the medians use these)"),
    ("throughput/s", "median items consumed per second"),
    ("p50", "median latency p50, intended send to pop"),
    ("p99", "median latency p99"),
    ("p99.9", "median latency p99.9"),
    ("max", "median of the per-run maximum latency"),
    ("CPU/item", "median CPU of the hand-off per consumed item (pacing excluded)"),
    ("cores busy", "median CPU seconds per wall second"),
    ("peak depth", "median of the per-run peak queue depth (items)"),
    ("memory", "median of the per-run peak resident memory over the run's own baseline (the "
               "process's peak RSS in files from a qbench that did not record the baseline)"),
    ("refused", "median items rejected (timeout) or dropped (drop) per run"),
    ("kept up", "paced workloads: repetitions that kept up with the offered load (kept_up)"),
    ("verdicts", "verdicts of every repetition of this configuration"),
)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto;
       max-width: 1400px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
p.meta, p.note { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.55em; }
th { background: #f3f3f3; text-align: left; }
table.context th { width: 9em; }
div.scroll { overflow-x: auto; max-width: 100%; }
table.summary td { white-space: nowrap; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { cursor: pointer; user-select: none; white-space: nowrap; }
table.summary th:hover { background: #e6e6e6; }
table.summary th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.75em; }
table.summary th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.75em; }
table.summary tbody tr:nth-child(even) { background: #fafafa; }
td.bad { color: #a00; font-weight: bold; }
ul.warnings { color: #8a5300; font-size: 0.9em; }
ul.warnings pre { margin: 0.2em 0; white-space: pre-wrap; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; margin-top: 0.3em; }
nav a { margin-right: 1em; }
"""

SCRIPT = """
(function () {
  function cellKey(row, col) {
    var cell = row.cells[col];
    var v = cell.getAttribute("data-v");
    if (v === null) v = cell.textContent.trim();
    if (v === "") return null;
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  function compare(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    a = String(a); b = String(b);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  var tables = document.querySelectorAll("table.summary");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      function sortBy() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (r, i) { r._pos = i; });
        rows.sort(function (ra, rb) {
          var a = cellKey(ra, col), b = cellKey(rb, col);
          if (a === null && b === null) return ra._pos - rb._pos;
          if (a === null) return 1;   /* blanks last either way */
          if (b === null) return -1;
          var c = compare(a, b);
          return c !== 0 ? (ascending ? c : -c) : ra._pos - rb._pos;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.tabIndex = 0;
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(); }
      });
    });
  });
})();
"""


def _e(text):
    return html.escape(str(text), quote=True)


def _num_cell(value, text):
    if value is None:
        return '<td class="num" data-v=""></td>'
    return f'<td class="num" data-v="{value:.10g}">{_e(text)}</td>'


def summary_table(ds):
    order_w = {w: i for i, w in enumerate(ds.workloads)}
    groups = [g for g in ds.groups if g.rows or g.verdicts]
    groups.sort(key=lambda g: (order_w.get(g.workload, len(order_w)), g.workload,
                               qbcsv.shape_sort_key(g.shape)))
    # In a box of its own that scrolls sideways: long queue names or many columns widen the
    # table, never the page (whose text stays at the body's width).
    out = ['<div class="scroll"><table class="summary" id="summary"><thead><tr>']
    for header, tip in COLUMNS:
        out.append(f'<th title="{_e(tip)}" scope="col">{_e(header)}</th>')
    out.append("</tr></thead><tbody>")
    for g in groups:
        p, c = g.shape
        shape = f"{p}x{c}" + ("*" if g.oversubscribed else "")
        med = g.median
        cells = [
            f"<td>{_e(ds.label(g.series, g.workload))}</td>",
            f"<td>{_e(g.workload)}</td>",
            f'<td data-v="{(p + c) * 1000 + p}">{_e(shape)}</td>',
            _num_cell(len(g.rows), str(len(g.rows))),
            _num_cell(med("throughput_per_s"), qbcsv.si(med("throughput_per_s"), 4)),
        ]
        for column in ("latency_p50_ns", "latency_p99_ns", "latency_p999_ns",
                       "latency_max_ns", "cpu_ns_per_item"):
            cells.append(_num_cell(med(column), qbcsv.duration_ns(med(column))))
        busy = med("cpu_cores_busy")
        cells.append(_num_cell(busy, "" if busy is None else f"{busy:.2f}"))
        depth = med("peak_depth")
        cells.append(_num_cell(depth, "" if depth is None else f"{depth:g}"))
        rss = med("peak_rss_growth_bytes")
        if rss is None:
            rss = med("peak_rss_bytes")
        cells.append(_num_cell(rss, qbcsv.byte_size(rss)))
        refused = med("refused")
        cells.append(_num_cell(refused, "" if refused is None else f"{refused:g}"))
        kept = [r["kept_up"] for r in g.rows if r.get("kept_up") is not None]
        cells.append(_num_cell(sum(kept) / len(kept), f"{int(sum(kept))}/{len(kept)}")
                     if kept else _num_cell(None, ""))
        bad = any(v != "ok" for v in g.verdicts)
        cells.append(('<td class="bad">' if bad else "<td>") + _e(g.verdict_text()) + "</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


# What the queues of one question are ranked by, as the console ranks them (results/ranking.hpp,
# through scripts/columns.json): (column, higher is better, name, format).
def _primary(workload):
    r = qbcsv.RANKING["by_workload"][workload]
    column = r["column"]
    higher = qbcsv.BETTER[column] == "higher"
    fmt = (lambda v: qbcsv.si(v, 3) + "/s") if qbcsv.UNITS["results"][column] == "1/s" \
        else qbcsv.duration_ns
    return column, higher, r["title"], fmt


def _spread(stat, fmt):
    if stat is None:
        return "-"
    if stat.n < 2:
        return f"{fmt(stat.median)} (1 repetition)"
    return f"{fmt(stat.median)} [{fmt(stat.lo)}-{fmt(stat.hi)}, {stat.n} repetitions]"


def _behind(g):
    """Repetitions of a paced configuration that fell behind the offered load (kept_up 0)."""
    return sum(1 for r in g.rows if r.get("kept_up") == 0)


NOISY_THROUGHPUT_RANGE = qbcsv.RANKING["noisy_throughput_range"]
NOISY_P99_RATIO = qbcsv.RANKING["noisy_p99_ratio"]


def _noisy(g):
    t, p = g.stat("throughput_per_s"), g.stat("latency_p99_ns")
    by_throughput = _primary(g.workload)[0] == "throughput_per_s"
    if by_throughput and t and t.n >= 2 and t.median > 0 \
            and (t.hi - t.lo) / t.median > NOISY_THROUGHPUT_RANGE:
        return True
    return bool(p and p.n >= 2 and p.lo > 0 and p.hi / p.lo > NOISY_P99_RATIO)


def findings(ds):
    """The page's opening: per question (the configurations that differ only in the queue), the
    best queue with its spread and the runner-up; then warnings a reader must see first."""
    questions = collections.OrderedDict()
    for g in ds.groups:
        if g.rows and not g.tag:
            questions.setdefault((g.context, g.workload, g.shape, g.variant), []).append(g)
    # The configuration keys that vary between the questions of a workload name them.
    varies = collections.defaultdict(set)
    for (_ctx, workload, _shape, variant) in questions:
        for i, (_column, value) in enumerate(variant):
            varies[(workload, i)].add(value)
    items, warnings = [], []
    for (ctx, workload, shape, variant), groups in questions.items():
        column, higher, name, fmt = _primary(workload)
        label = f"{workload} {shape[0]}x{shape[1]}"
        extra = [f"{qbcsv.variant_name(c)}={qbcsv.variant_value_text(c, v)}"
                 for i, (c, v) in enumerate(variant)
                 if len(varies[(workload, i)]) > 1 and v not in ("", "none")]
        if extra:
            label += " (" + ", ".join(extra) + ")"
        if ds.multi_context:
            label += " @ " + ds.ctx_label(ctx)
        candidates = [g for g in groups if g.median(column) is not None
                      and 2 * _behind(g) <= len(g.rows) and sum(g.verdicts.values()) == len(g.rows)]
        candidates.sort(key=lambda g: g.median(column), reverse=higher)
        behind = [g.queue for g in groups if _behind(g)]
        if len(groups) < 2:
            continue
        text = f"<b>{_e(label)}</b>: "
        if candidates:
            best = candidates[0]
            text += f"best {_e(name)}: <b>{_e(best.queue)}</b> {_e(_spread(best.stat(column), fmt))}"
            if len(candidates) > 1:
                nxt = candidates[1]
                overlap = nxt.stat(column) and best.stat(column) and (
                    (nxt.stat(column).hi >= best.stat(column).lo) if higher
                    else (nxt.stat(column).lo <= best.stat(column).hi))
                text += (f"; next {_e(nxt.queue)} {_e(fmt(nxt.median(column)))}"
                         + (" (ranges overlap: not clearly apart)" if overlap else ""))
        else:
            text += "no queue passed every repetition and kept up"
        if behind:
            text += f"; <b>fell behind the offered load</b>: {_e(', '.join(behind))}"
        items.append(text)
    reps = [len(g.rows) for g in ds.groups if g.rows]
    if reps and max(reps) < 2:
        warnings.append("One repetition per configuration: no spread, so no difference here can "
                        "be told from noise. Run with --reps 5 or more.")
    noisy = [g for g in ds.groups if g.rows and _noisy(g)]
    if noisy:
        warnings.append(f"{len(noisy)} configuration(s) are noisy (throughput range over "
                        f"{NOISY_THROUGHPUT_RANGE:.0%} of the median, or p99 varying more than "
                        f"{NOISY_P99_RATIO:g}x between repetitions): "
                        + ", ".join(sorted({f"{g.queue} {g.workload}" for g in noisy})))
    behind = [g for g in ds.groups if g.rows and _behind(g)]
    if behind:
        warnings.append(f"{len(behind)} configuration(s) fell behind the offered load (the "
                        "kept_up column): their latency is the backlog's, not the queue's.")
    if any(g.oversubscribed for g in ds.groups):
        warnings.append("Shapes marked * run more producer + consumer threads than cores: "
                        "spinning queues collapse there by design of the test.")
    return items, warnings


def context_table(ds):
    contexts = ds.contexts
    fields = []

    def collect(getter):
        return [getter(ds.context_info[ctx], ctx) for ctx in contexts]

    def joined(values):
        return ", ".join(sorted(v for v in values if v != "")) or "?"

    def rows_of(ctx):
        return [r for r in ds.rows if qbcsv.context_of(r) == ctx]

    def raw_values(ctx, column):
        return {r["_raw"].get(column, "") for r in rows_of(ctx)}

    fields.append(("machine", collect(lambda info, _c: info["host"])))
    fields.append(("CPU", collect(lambda info, _c: info["cpu_model"])))
    fields.append(("cores", collect(lambda info, _c: joined(str(c) for c in info["cores"]))))
    fields.append(("memory", collect(lambda _i, ctx: joined(
        qbcsv.byte_size(float(v)) for v in raw_values(ctx, "memory_bytes") if v))))
    fields.append(("commit", collect(lambda info, _c: info["git_sha"])))
    fields.append(("qbench", collect(lambda _i, ctx: joined(raw_values(ctx, "qbench_version")))))
    fields.append(("compiler", collect(lambda info, _c: joined(info["compiler"]))))
    fields.append(("build type", collect(lambda info, _c: joined(info["build_type"]))))
    fields.append(("kernel", collect(lambda info, _c: joined(info["kernel"]))))
    fields.append(("clock", collect(lambda _i, ctx: joined(raw_values(ctx, "clock")))))

    def dates(info, _ctx):
        stamps = sorted(t for t in info["timestamps"] if t)
        if not stamps:
            return "?"
        return stamps[0] if len(stamps) == 1 else f"{stamps[0]} to {stamps[-1]}"

    fields.append(("date (UTC)", collect(dates)))
    fields.append(("rows", [str(len(rows_of(ctx))) for ctx in contexts]))

    out = ['<div class="scroll"><table class="context">']
    if len(contexts) > 1:
        out.append("<tr><th></th>" + "".join(f"<th>{_e(ds.ctx_label(ctx))}</th>"
                                              for ctx in contexts) + "</tr>")
    for name, values in fields:
        out.append(f"<tr><th>{_e(name)}</th>" + "".join(f"<td>{_e(v)}</td>" for v in values)
                   + "</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def render(ds, figures, inputs, warnings, title, command=""):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Generated {_e(now)} by scripts/report.py from '
        + ", ".join(f"<code>{_e(os.path.basename(p))}</code>" for p in inputs) + ".</p>",
    ]
    items, cautions = findings(ds)
    parts.append('<h2 id="findings">Findings</h2>')
    if command:
        parts.append(f"<p class=\"meta\">Command: <code>{_e(command)}</code></p>")
    if items:
        parts.append("<ul>" + "".join(f"<li>{t}</li>" for t in items) + "</ul>")
    else:
        parts.append('<p class="note">No question compares two queues here.</p>')
    if cautions:
        parts.append('<ul class="warnings">'
                     + "".join(f"<li>{_e(w)}</li>" for w in cautions) + "</ul>")
    kinds = [k for k in plot.KIND_ORDER if any(f.kind == k for f in figures)]
    nav = ['<a href="#findings">Findings</a>', '<a href="#context">Run context</a>',
           '<a href="#summary-section">Summary</a>']
    nav += [f'<a href="#fig-{k}">{_e(SECTIONS[k][0])}</a>' for k in kinds]
    parts.append("<nav>" + "".join(nav) + "</nav>")
    parts.append('<h2 id="context">Run context</h2>')
    parts.append(context_table(ds))
    if warnings:
        parts.append("<h2>Warnings</h2><ul class=\"warnings\">")
        parts += [f"<li><pre>{_e(w)}</pre></li>" for w in warnings]
        parts.append("</ul>")
    parts.append('<h2 id="summary-section">Summary</h2>')
    parts.append('<p class="note">One row per configuration: medians over the repetitions with '
                 "verdict ok (other verdicts are counted in the last column, not averaged in). "
                 "Latency is measured from the intended send time. Click a column header to "
                 "sort; * marks shapes with more producer + consumer threads than cores.</p>")
    parts.append(summary_table(ds))
    for kind in kinds:
        heading, caption = SECTIONS[kind]
        parts.append(f'<h2 id="fig-{kind}">{_e(heading)}</h2>')
        parts.append(f'<p class="note">{_e(caption)}</p>')
        for f in figures:
            if f.kind != kind:
                continue
            data = base64.b64encode(f.png).decode("ascii")
            parts.append(f'<figure id="{_e(f.name)}"><img alt="{_e(f.title)}" '
                         f'src="data:image/png;base64,{data}">'
                         f"<figcaption>{_e(f.title)} ({_e(f.name)})</figcaption></figure>")
    parts.append(f"<script>{SCRIPT}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG, description="A self-contained HTML report (figures embedded, sortable "
                               "summary table, run context) from qbench results CSV files.")
    plot.add_common_arguments(parser)
    parser.add_argument("--out", required=True, metavar="report.html",
                        help="the HTML file to write (replaced if it exists)")
    parser.add_argument("--title", default="qbench report", help="page title")
    parser.add_argument("--command", default="",
                        help="the command that produced the results, shown under the findings")
    args = parser.parse_args(argv)
    try:
        ds, timeline, warnings = plot.load_inputs(args, PROG)
        if os.path.isdir(args.out):
            raise InputError(f"--out {args.out}: is a directory; give the HTML file's path")
        plot.require_matplotlib(PROG)
        figures = []
        for f in plot.build_figures(ds, timeline):
            f.png = plot.png_bytes(f.fig)
            f.fig = None  # release the figure's memory
            figures.append(f)
        page = render(ds, figures, args.results + args.timeseries, warnings, args.title, args.command)
        directory = os.path.dirname(os.path.abspath(args.out))
        tmp = os.path.join(directory, f".{os.path.basename(args.out)}.tmp.{os.getpid()}")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(page)
            os.replace(tmp, args.out)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise InputError(f"--out {args.out}: cannot write ({e.strerror})")
        print(args.out)
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
