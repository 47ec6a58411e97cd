#!/usr/bin/python3
"""Figures (PNG) from qbench results CSV files and, optionally, a time-series CSV.

    scripts/plot.py RESULTS.csv [RESULTS.csv ...] --out DIR [--timeseries TS.csv ...]

Figures (how to read them: docs/figures.md):
  throughput_<workload>.png             throughput per producer x consumer shape, one line per queue
  latency_<workload>_<PxC>.png          latency percentile spectrum (HdrHistogram style)
  cpu_<workload>.png                    CPU ns per item and cores kept busy, per queue and shape
  wakeups_<workload>.png                wake-ups and wasted wake-ups per item (queues counting them)
  timeline_<workload>_<PxC>_rep<N>.png  depth, RSS and latency over time, bursts shaded

Repetitions are aggregated: the median is drawn, with min-max whiskers or bands. Only rows with
verdict ok are plotted unless --include-non-ok is given (they then form separate lines tagged
with their verdict); excluded rows are listed on stderr. Rows from a sanitizer build are refused.
Bad input: one line on stderr naming the file and the problem, exit code 2.

The figure functions are importable (scripts/report.py embeds the same figures).
"""

import argparse
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qbcsv  # noqa: E402
from qbcsv import InputError  # noqa: E402

try:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import ticker
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
except ImportError:  # reported by require_matplotlib()
    matplotlib = None

PROG = "plot.py"
OVERSUBSCRIBED_NOTE = "* oversubscribed: more producer + consumer threads than cores"
AGGREGATION_NOTE = "median of the repetitions; whiskers/bands span min to max"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
KIND_ORDER = ("throughput", "latency", "cpu", "wakeups", "timeline")

# Percentile spectrum: columns and their x position 1/(1-p); the max gets a fixed position one
# decade right of 99.99% (its true rank depends on the item count).
SPECTRUM = (
    ("latency_p50_ns", 2.0, "50%"),
    ("latency_p90_ns", 10.0, "90%"),
    ("latency_p99_ns", 100.0, "99%"),
    ("latency_p999_ns", 1e3, "99.9%"),
    ("latency_p9999_ns", 1e4, "99.99%"),
    ("latency_max_ns", 1e5, "max"),
)


class FigureOut:
    """One figure: file name, kind, a one-line description and the matplotlib Figure."""

    def __init__(self, name, kind, title, fig):
        self.name, self.kind, self.title, self.fig = name, kind, title, fig


def require_matplotlib(prog=PROG):
    if matplotlib is None:
        print(f"{prog}: error: python3-matplotlib is not installed "
              f"(scripts/deps.sh --plots installs it)", file=sys.stderr)
        sys.exit(1)


# --------------------------------------------------------------------------------------------
# The data set: aggregated groups, series, colors, labels


class Dataset:
    """Aggregated results ready to plot: groups, series (one line each), colors and labels."""

    def __init__(self, rows, include_non_ok=False):
        self.rows = rows
        self.include_non_ok = include_non_ok
        self.groups = qbcsv.aggregate(rows, include_non_ok)
        self.plotted = [g for g in self.groups if g.rows]

        self.contexts = _unique(qbcsv.context_of(r) for r in rows)
        self.context_info = {}
        for r in rows:
            info = self.context_info.setdefault(qbcsv.context_of(r), {
                "host": r["host"], "git_sha": r["git_sha"], "cpu_model": r["cpu_model"],
                "cores": set(), "compiler": set(), "build_type": set(), "kernel": set(),
                "timestamps": set()})
            if r["cores"] is not None:
                info["cores"].add(r["cores"])
            for column in ("compiler", "build_type", "kernel"):
                info[column].add(r[column])
            info["timestamps"].add(r["timestamp"])
        # Which context fields tell the contexts apart (for labels such as "mutex_cv @ abc123").
        differing = [i for i, c in enumerate(qbcsv.CONTEXT_COLUMNS)
                     if len({ctx[i] for ctx in self.contexts}) > 1]
        if len(differing) > 1 and 2 in differing:
            differing.remove(2)  # host or commit already tell them apart: skip the CPU model
        self._ctx_fields = differing

        self.series = _unique(g.series for g in self.plotted)
        self.workloads = _unique(g.workload for g in self.plotted)
        # Configuration columns that vary inside a workload (they key colors), and, for each
        # queue, those that tell its own lines apart (they appear in its labels).
        self._varying = {}
        self._label_cols = {}
        ncols = len(qbcsv.VARIANT_COLUMNS)
        for w in self.workloads:
            variants = {g.variant for g in self.plotted if g.workload == w}
            self._varying[w] = [i for i in range(ncols) if len({v[i][1] for v in variants}) > 1]
            by_queue = {}
            for g in self.plotted:
                if g.workload == w:
                    by_queue.setdefault((g.context, g.queue), set()).add(g.variant)
            for (ctx, queue), vs in by_queue.items():
                self._label_cols[(w, ctx, queue)] = [
                    i for i in range(ncols) if len({v[i][1] for v in vs}) > 1]
        # One color and marker per queue (and context, verdict tag and any configuration that
        # varies inside a workload), the same in every figure.
        self._varying_any = sorted({i for cols in self._varying.values() for i in cols})
        keys = _unique(self._color_key(s) for s in self.series)
        palette = _palette(len(keys))
        self._colors = {k: palette[i % len(palette)] for i, k in enumerate(keys)}
        self._markers = {k: MARKERS[i % len(MARKERS)] for i, k in enumerate(keys)}

    def _color_key(self, series):
        ctx, queue, variant, tag = series
        return (ctx, queue, tag, tuple(variant[i] for i in self._varying_any))

    def color(self, series):
        return self._colors.get(self._color_key(series), "0.3")

    def marker(self, series):
        return self._markers.get(self._color_key(series), "o")

    # labels

    @property
    def multi_context(self):
        return len(self.contexts) > 1

    def ctx_label(self, ctx):
        fields = self._ctx_fields or [1]
        return "/".join(ctx[i] for i in fields)

    def label(self, series, workload):
        ctx, queue, variant, tag = series
        text = queue
        # Columns that vary in the figure, except where they do not apply to this line ("-").
        extra = [f"{qbcsv.variant_name(variant[i][0])}="
                 f"{qbcsv.variant_value_text(variant[i][0], variant[i][1])}"
                 for i in self._label_cols.get((workload, ctx, queue), ())
                 if qbcsv.variant_value_text(variant[i][0], variant[i][1]) != "-"]
        if extra:
            text += " [" + ", ".join(extra) + "]"
        if self.multi_context:
            text += " @ " + self.ctx_label(ctx)
        if tag:
            text += f" ({tag}!)"
        return text

    def shape_label(self, groups, shape):
        over = any(g.oversubscribed for g in groups if g.shape == shape)
        return f"{shape[0]}x{shape[1]}" + ("*" if over else "")

    # selections

    def groups_for(self, workload, shape=None):
        return [g for g in self.plotted
                if g.workload == workload and (shape is None or g.shape == shape)]

    def shapes(self, workload):
        return sorted({g.shape for g in self.groups_for(workload)}, key=qbcsv.shape_sort_key)

    def series_in(self, groups):
        present = {g.series for g in groups}
        return [s for s in self.series if s in present]

    def footer(self, groups, extra=()):
        lines = []
        for ctx in _unique(g.context for g in groups):
            lines.append(context_line(self.context_info[ctx],
                                      self.ctx_label(ctx) if self.multi_context else None))
        if any(g.oversubscribed for g in groups):
            lines.append(OVERSUBSCRIBED_NOTE)
        lines.extend(extra)
        return lines


def context_line(info, prefix=None):
    cores = "/".join(str(c) for c in sorted(info["cores"])) or "?"
    text = (f"machine: {info['host']}, {info['cpu_model']}, {cores} cores   "
            f"commit: {info['git_sha']}")
    build = ", ".join(sorted(info["build_type"] | info["compiler"]))
    if build:
        text += f"   build: {build}"
    if prefix:
        text = f"[{prefix}] {text}"
    return text


def _unique(items):
    seen = {}
    for x in items:
        seen.setdefault(x, None)
    return list(seen)


def _palette(n):
    if matplotlib is None:  # colors are only used once matplotlib is known to be there
        return ["0.3"]
    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i) for i in range(cmap.N)]


def workload_text(workload, groups):
    """The workload and the configuration its groups share, e.g. 'burst: 50k/s, ...'."""
    variants = [dict(g.variant) for g in groups]

    def same(column):
        values = {v[column] for v in variants}
        return values.pop() if len(values) == 1 else None

    parts = []
    rate, peak, burst, period = same("rate_per_s"), same("peak_rate_per_s"), same("burst_s"), same("period_s")
    if workload == "flood":
        parts.append("as fast as possible")
    elif workload == "burst" and rate and peak and burst and period:
        parts.append(f"{qbcsv.variant_value_text('rate_per_s', rate)}, "
                     f"{qbcsv.variant_value_text('peak_rate_per_s', peak)} for "
                     f"{qbcsv.duration_s(burst)} every {qbcsv.duration_s(period)}")
    elif rate:
        parts.append(qbcsv.variant_value_text("rate_per_s", rate))
    if same("gaps") == "exponential":
        parts.append("Poisson gaps")
    service = same("service")
    if service and service != "none" and same("service_s"):
        parts.append(f"service {service} {qbcsv.duration_s(same('service_s'))}"
                     f" {same('service_mode')}")
    def each(column, text=lambda v: v):
        values = _unique(text(v[column]) for v in variants if v[column] != "")
        return "/".join(values)

    capacity = each("capacity")
    if capacity:
        parts.append(f"capacity {capacity}")
    backpressure = each("backpressure")
    if backpressure and backpressure != "block":
        parts.append(f"backpressure {backpressure}")
    durations = each("duration_s", qbcsv.duration_s)
    if durations:
        parts.append(f"{durations} runs")
    items = each("items_target", lambda v: qbcsv.si(float(v)))
    if items:
        parts.append(f"{items} items")
    return workload + (" (" + ", ".join(parts) + ")" if parts else "")


# --------------------------------------------------------------------------------------------
# Figure helpers


def _new_figure(width, height):
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return fig


def _style_axes(ax):
    ax.grid(True, which="major", alpha=0.35, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _finish(fig, title, subtitle, footer_lines):
    fig.suptitle(title + ("\n" + subtitle if subtitle else ""), fontsize=11)
    if footer_lines:
        fig.text(0.005, -0.01, "\n".join(footer_lines), ha="left", va="top", fontsize=7.5,
                 color="0.3", linespacing=1.4)


def _legend_outside(ax, handles=None, labels=None, title=None):
    kwargs = {}
    if handles is not None:
        kwargs["handles"] = handles
    if labels is not None:
        kwargs["labels"] = labels
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     frameon=False, fontsize=8, title=title, title_fontsize=8, **kwargs)


def _si_formatter():
    return ticker.FuncFormatter(lambda v, _pos: qbcsv.si(v) if v else "0")


def _time_unit(values_ns):
    """A display unit for nanosecond values: (name, scale)."""
    values = [v for v in values_ns if v and v > 0]
    if not values:
        return "us", 1e3
    middle = (min(values) * max(values)) ** 0.5
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if middle >= scale:
            return unit, scale
    return "ns", 1.0


def _plain_number(v):
    if v == 0:
        return "0"
    text = f"{v:.6g}"
    if "e" in text:
        text = f"{v:.0e}"
    return text


def _duration_ticks(axis, values_ns):
    """A log axis of nanosecond values whose every tick names its unit ('500us', '2ms'): the
    same units in every latency figure, and no '20000' ticks."""
    axis.set_major_formatter(ticker.FuncFormatter(
        lambda v, _pos: qbcsv.duration_ns(v) if v > 0 else "0"))
    axis.set_minor_formatter(ticker.NullFormatter())
    _log_ticks(axis, values_ns)


def _log_ticks(axis, values):
    """More labelled ticks (1, 2, 5 per decade) on a log axis spanning under 3 decades."""
    values = [v for v in values if v is not None and v > 0]
    if values and max(values) / min(values) < 1000:
        axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))


def _log_axis_needed(values):
    values = [v for v in values if v is not None and v > 0]
    return len(values) > 1 and max(values) / min(values) > 50


# --------------------------------------------------------------------------------------------
# 1. Throughput vs shape


def fig_throughput(ds, workload):
    groups = ds.groups_for(workload)
    shapes = ds.shapes(workload)
    series = ds.series_in(groups)
    fig = _new_figure(9.5, 4.8)
    ax = fig.add_subplot()
    _style_axes(ax)
    n = len(series)
    top = 0.0
    for i, s in enumerate(series):
        dodge = (i - (n - 1) / 2) * min(0.05, 0.4 / max(n, 1))
        xs, ys, lo, hi = [], [], [], []
        for j, shape in enumerate(shapes):
            g = _find(groups, s, shape)
            st = g.stat("throughput_per_s") if g else None
            if st is None:
                continue
            xs.append(j + dodge)
            ys.append(st.median)
            lo.append(st.median - st.lo)
            hi.append(st.hi - st.median)
            top = max(top, st.hi)
        if xs:
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="-", marker=ds.marker(s), markersize=5,
                        capsize=3, linewidth=1.5, elinewidth=1, color=ds.color(s),
                        label=ds.label(s, workload))
    offered = _offered_rate(workload, groups)
    if offered:
        ax.axhline(offered, color="0.4", linestyle="--", linewidth=1,
                   label=f"offered rate (mean {qbcsv.si(offered)}/s)")
        top = max(top, offered)
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels([ds.shape_label(groups, sh) for sh in shapes])
    ax.set_xlim(-0.5, len(shapes) - 0.5)
    ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    ax.yaxis.set_major_formatter(_si_formatter())
    ax.set_xlabel("shape: producers x consumers (ordered by total threads)")
    ax.set_ylabel("throughput (items/s consumed)")
    _legend_outside(ax)
    _finish(fig, f"Throughput by shape - workload {workload}, shapes "
                 + ", ".join(ds.shape_label(groups, sh) for sh in shapes),
            workload_text(workload, groups), ds.footer(groups, [AGGREGATION_NOTE]))
    return fig


def _all_kept_up(ds, workload):
    """A paced workload whose every run kept up with the offered load (the kept_up column; files
    from a qbench without it are drawn as before)."""
    if workload not in ("steady", "burst"):
        return False
    rows = [r for g in ds.groups_for(workload) for r in g.rows]
    return bool(rows) and all(r.get("kept_up") == 1 for r in rows)


def _find(groups, series, shape):
    for g in groups:
        if g.series == series and g.shape == shape:
            return g
    return None


def _offered_rate(workload, groups):
    """The mean offered rate when every group shares it (paced workloads), else None."""
    values = set()
    for g in groups:
        v = dict(g.variant)
        try:
            rate = float(v["rate_per_s"])
        except ValueError:
            return None
        if workload == "burst":
            try:
                peak, burst, period = (float(v["peak_rate_per_s"]), float(v["burst_s"]),
                                       float(v["period_s"]))
            except ValueError:
                return None
            share = min(burst / period, 1.0) if period > 0 else 0.0
            rate = rate * (1 - share) + peak * share
        values.add(round(rate, 6))
    return values.pop() if len(values) == 1 else None


# --------------------------------------------------------------------------------------------
# 2. Latency percentile spectrum


def fig_latency(ds, workload, shape):
    groups = ds.groups_for(workload, shape)
    series = ds.series_in(groups)
    fig = _new_figure(9.5, 5.2)
    ax = fig.add_subplot()
    _style_axes(ax)
    all_values = []
    for s in series:
        g = _find(groups, s, shape)
        points = []
        for column, x, _label in SPECTRUM:
            st = g.stat(column)
            if st is not None and st.median > 0:
                points.append((x, st.median, max(st.lo, 1e-3), st.hi))
                all_values += [st.lo, st.hi]
        if not points:
            continue
        color = ds.color(s)
        xs = [p[0] for p in points]
        body = [p for p in points if p[0] < SPECTRUM[-1][1]]
        ax.plot([p[0] for p in body], [p[1] for p in body], "-", marker=ds.marker(s),
                markersize=5, color=color, linewidth=1.6, label=ds.label(s, workload))
        if points[-1][0] == SPECTRUM[-1][1] and len(points) > 1:
            tail = points[-2:]
            ax.plot([p[0] for p in tail], [p[1] for p in tail], ":", color=color, linewidth=1.4)
            ax.plot([tail[-1][0]], [tail[-1][1]], marker=ds.marker(s), markersize=5,
                    color=color, linestyle="none")
        if len(g.rows) > 1:
            ax.fill_between(xs, [p[2] for p in points], [p[3] for p in points], color=color,
                            alpha=0.13, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([x for _c, x, _l in SPECTRUM])
    ax.set_xticklabels([label for _c, _x, label in SPECTRUM])
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_xlim(1.6, 1.6e5)
    _duration_ticks(ax.yaxis, all_values)
    ax.set_xlabel("percentile (x = 1/(1-p), log scale: each step right is a 10x rarer tail)")
    ax.set_ylabel("latency, intended send to pop (log scale)")
    _legend_outside(ax)
    label = ds.shape_label(groups, shape)
    _finish(fig, f"Latency percentiles - workload {workload}, shape {label} "
                 f"({shape[0]} producer{'s' if shape[0] > 1 else ''} x "
                 f"{shape[1]} consumer{'s' if shape[1] > 1 else ''})",
            workload_text(workload, groups),
            ds.footer(groups, [AGGREGATION_NOTE + "; max drawn one decade right of 99.99% "
                                                  "(dotted), not at its exact rank"]))
    return fig


# --------------------------------------------------------------------------------------------
# 3. CPU cost and 5. wake-ups: grouped bars, x = shape, one bar per queue


def _grouped_bars(ax, ds, groups, shapes, series, column, scale=1.0):
    n = max(len(series), 1)
    width = 0.8 / n
    values = []
    for i, s in enumerate(series):
        xs, ys, lo, hi = [], [], [], []
        for j, shape in enumerate(shapes):
            g = _find(groups, s, shape)
            st = g.stat(column) if g else None
            if st is None:
                continue
            xs.append(j + (i - (n - 1) / 2) * width)
            ys.append(st.median / scale)
            lo.append((st.median - st.lo) / scale)
            hi.append((st.hi - st.median) / scale)
            values += [st.lo / scale, st.hi / scale]
        if xs:
            ax.bar(xs, ys, width * 0.92, color=ds.color(s), yerr=[lo, hi], capsize=2,
                   error_kw={"elinewidth": 0.8, "ecolor": "0.25"}, label=None)
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels([ds.shape_label(groups, sh) for sh in shapes])
    ax.set_xlim(-0.5, len(shapes) - 0.5)
    return values


def _series_legend(ax, ds, series, workload, extra=()):
    handles = [Patch(facecolor=ds.color(s), label=ds.label(s, workload)) for s in series]
    handles += list(extra)
    _legend_outside(ax, handles=handles)


def fig_cpu(ds, workload):
    groups = ds.groups_for(workload)
    shapes = ds.shapes(workload)
    series = ds.series_in(groups)
    width = min(22.0, max(9.5, 3.0 + 0.28 * len(series) * len(shapes)))
    fig = _new_figure(width, 7.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for ax in (ax1, ax2):
        _style_axes(ax)
    per_item = [g.median("cpu_ns_per_item") for g in groups]
    unit, scale = _time_unit(per_item)
    values = _grouped_bars(ax1, ds, groups, shapes, series, "cpu_ns_per_item", scale)
    if _log_axis_needed(values):
        ax1.set_yscale("log")
        ax1.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _p: _plain_number(v)))
        ax1.set_ylabel(f"CPU per item ({unit}, log scale)")
    else:
        ax1.set_ylabel(f"CPU per item ({unit})")
    ax1.set_title("CPU time of the hand-off per consumed item (pacing excluded)", fontsize=9,
                  loc="left")
    _grouped_bars(ax2, ds, groups, shapes, series, "cpu_cores_busy")
    ax2.set_ylabel("cores busy (CPU s per wall s)")
    ax2.set_title("cores kept busy: CPU seconds per second of wall time", fontsize=9, loc="left")
    ax2.set_xlabel("shape: producers x consumers")
    extra = []
    cores = set()
    for ctx in {g.context for g in groups}:
        cores |= ds.context_info[ctx]["cores"]
    if len(cores) == 1:
        ncores = cores.pop()
        ax2.axhline(ncores, color="firebrick", linestyle="--", linewidth=1)
        extra.append(Line2D([], [], color="firebrick", linestyle="--",
                            label=f"all {ncores} cores of the machine"))
    ax2.set_ylim(bottom=0)
    _series_legend(ax1, ds, series, workload, extra)
    _finish(fig, f"CPU cost - workload {workload}, shapes "
                 + ", ".join(ds.shape_label(groups, sh) for sh in shapes),
            workload_text(workload, groups), ds.footer(groups, [AGGREGATION_NOTE]))
    return fig


def fig_wakeups(ds, workload):
    """None when no queue of the workload reports wake-ups."""
    groups = [g for g in ds.groups_for(workload) if g.stat("wakeups_per_item") is not None]
    if not groups:
        return None
    shapes = sorted({g.shape for g in groups}, key=qbcsv.shape_sort_key)
    series = ds.series_in(groups)
    width = min(22.0, max(9.5, 3.0 + 0.28 * len(series) * len(shapes)))
    fig = _new_figure(width, 7.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    for ax in (ax1, ax2):
        _style_axes(ax)
    _grouped_bars(ax1, ds, groups, shapes, series, "wakeups_per_item")
    ax1.set_ylabel("wake-ups per item")
    ax1.set_title("returns from a condition-variable or futex wait, per consumed item",
                  fontsize=9, loc="left")
    _grouped_bars(ax2, ds, groups, shapes, series, "wasted_wakeups_per_item")
    ax2.set_ylabel("wasted wake-ups per item")
    ax2.set_title("wake-ups that found nothing to do, per consumed item", fontsize=9, loc="left")
    ax2.set_xlabel("shape: producers x consumers")
    for ax in (ax1, ax2):
        ax.set_ylim(bottom=0)
    _series_legend(ax1, ds, series, workload)
    silent = sorted({ds.label(g.series, workload) for g in ds.groups_for(workload)}
                    - {ds.label(s, workload) for s in series})
    extra = [AGGREGATION_NOTE]
    if silent:
        extra.append("not counting wake-ups (not shown): " + ", ".join(silent))
    _finish(fig, f"Wake-ups per item - workload {workload}, shapes "
                 + ", ".join(ds.shape_label(groups, sh) for sh in shapes),
            workload_text(workload, groups), ds.footer(groups, extra))
    return fig


# --------------------------------------------------------------------------------------------
# 4. Burst timeline from the time-series file


def parse_shape(text):
    t = text.strip().rstrip("*").lower()
    try:
        p, c = t.split("x")
        return int(p), int(c)
    except ValueError:
        raise InputError(f"--ts-shape {text!r}: expected PxC, e.g. 2x1")


class Timeline:
    """The runs of the time-series file chosen for the timeline figure, one panel each."""

    def __init__(self, workload, shape, rep, panels, results_by_run):
        self.workload, self.shape, self.rep = workload, shape, rep
        self.panels = panels  # list of (label, rows, results row or None)
        self.results_by_run = results_by_run


def select_timeline(ts_rows, results_rows, workload=None, shape=None, rep=None, warnings=None):
    """Chooses the runs for the timeline: by default the burst workload if present (else the
    first one), its first shape and its first repetition. Raises InputError when nothing
    matches."""
    warnings = warnings if warnings is not None else []
    by_run = {r["run_id"]: r for r in results_rows}
    workloads = _unique(r["workload"] for r in ts_rows)
    if workload is None:
        workload = "burst" if "burst" in workloads else workloads[0]
    elif workload not in workloads:
        raise InputError(f"--ts-workload {workload}: not in the time series "
                         f"(available: {', '.join(workloads)})")
    rows = [r for r in ts_rows if r["workload"] == workload]
    shapes = _unique((r["producers"], r["consumers"]) for r in rows)
    if shape is None:
        shape = shapes[0]
    elif shape not in shapes:
        raise InputError(f"--ts-shape {shape[0]}x{shape[1]}: no time series for workload "
                         f"{workload} at that shape (available: "
                         + ", ".join(f"{p}x{c}" for p, c in
                                     sorted(shapes, key=qbcsv.shape_sort_key)) + ")")
    rows = [r for r in rows if (r["producers"], r["consumers"]) == shape]
    reps = sorted({r["rep"] for r in rows})
    if rep is None:
        rep = reps[0]
    elif rep not in reps:
        raise InputError(f"--ts-rep {rep}: no time series for {workload} "
                         f"{shape[0]}x{shape[1]} with that repetition "
                         f"(available: {', '.join(str(x) for x in reps)})")
    rows = [r for r in rows if r["rep"] == rep]

    runs = {}
    for r in rows:
        key = (r["host"], r["git_sha"], r["queue"], r["capacity"], r["backpressure"])
        runs.setdefault(key, {}).setdefault(r["run_id"], []).append(r)
    contexts = _unique((k[0], k[1]) for k in runs)
    vary_cap = len({k[3] for k in runs}) > 1
    vary_bp = len({k[4] for k in runs}) > 1
    ctx_fields = [i for i in (0, 1) if len({c[i] for c in contexts}) > 1] or [1]
    panels = []
    for key, by_id in runs.items():
        run_id, run_rows = next(iter(by_id.items()))
        if len(by_id) > 1:
            warnings.append(f"time series: {len(by_id)} runs of {key[2]} {workload} "
                            f"{shape[0]}x{shape[1]} rep {rep}; showing the first ({run_id})")
        result = by_run.get(run_id)
        if result is not None and result["sanitizer"].strip():
            warnings.append(f"time series: run {run_id} ({key[2]}) comes from a sanitizer "
                            f"build ({result['sanitizer']}): refused, its numbers are not "
                            f"results")
            continue
        label = key[2]
        extra = []
        if vary_cap:
            extra.append(f"cap={key[3]}")
        if vary_bp:
            extra.append(f"bp={key[4]}")
        if extra:
            label += " [" + ", ".join(extra) + "]"
        if len(contexts) > 1:
            label += " @ " + "/".join(key[i] for i in ctx_fields)
        if result is not None and result["verdict"] != "ok":
            label += f"  (verdict: {result['verdict']})"
        run_rows.sort(key=lambda r: r["t_s"])
        panels.append((label, run_rows, result))
    if not panels:
        raise InputError("time series: no run left to plot after refusing sanitizer runs")
    return Timeline(workload, shape, rep, panels, by_run)


def _burst_windows(rows):
    """(start, end) of each in_burst == 1 stretch, widened by half a sample on each side."""
    windows = []
    start = None
    times = [r["t_s"] for r in rows]
    for i, r in enumerate(rows):
        inside = r["in_burst"] == 1
        if inside and start is None:
            start = i
        if start is not None and (not inside or i == len(rows) - 1):
            end = i if inside else i - 1
            lo = (times[start - 1] + times[start]) / 2 if start > 0 else 0.0
            hi = (times[end] + times[end + 1]) / 2 if end + 1 < len(rows) else times[end]
            windows.append((lo, hi))
            start = None
    return windows


def _nan(value, scale=1.0):
    return float("nan") if value is None else value / scale


def fig_timeline(tl, results_ds=None):
    panels = tl.panels
    nrows = len(panels)
    fig = _new_figure(13.0, 1.9 * nrows + 1.6)
    axes = fig.subplots(nrows, 3, sharex=True, squeeze=False)
    # Depth and memory share their scale across the panels (queues compare at a glance), scaled
    # to the data; latency is shared too.
    for col in range(3):
        for row in range(1, nrows):
            axes[row][col].sharey(axes[0][col])
    peak_depth = max((r["queue_depth"] or 0 for _l, rows, _r in panels for r in rows), default=0)
    latency_values = []
    for _label, rows, _result in panels:
        for r in rows:
            for c in ("latency_mean_ns", "latency_p99_ns", "latency_max_ns"):
                if r[c]:
                    latency_values.append(r[c])
    palette = _palette(nrows)
    capacity_drawn = False
    any_burst = False
    for i, (label, rows, result) in enumerate(panels):
        color = palette[i % len(palette)]
        if results_ds is not None and result is not None:
            for s in results_ds.series:
                if s[1] == rows[0]["queue"] and s[0] == qbcsv.context_of(result):
                    color = results_ds.color(s)
                    break
        t = [r["t_s"] for r in rows]
        ax_depth, ax_rss, ax_lat = axes[i]
        for ax in axes[i]:
            _style_axes(ax)
            for lo, hi in _burst_windows(rows):
                ax.axvspan(lo, hi, color="orange", alpha=0.18, linewidth=0)
                any_burst = True
        ax_depth.plot(t, [_nan(r["queue_depth"]) for r in rows], color=color, linewidth=1.2)
        cap = rows[0]["capacity"]
        if cap.isdigit() and peak_depth >= 0.5 * int(cap):
            ax_depth.axhline(int(cap), color="0.5", linestyle="-.", linewidth=0.9)
            capacity_drawn = True
        ax_depth.set_ylabel("depth (items)" if not cap.isdigit() or capacity_drawn
                            else f"depth (items; capacity {cap})")
        ax_depth.set_title(label, loc="left", fontsize=9, fontweight="bold")
        ax_rss.plot(t, [_nan(r["rss_bytes"], 2**20) for r in rows], color=color, linewidth=1.2)
        ax_rss.set_ylabel("RSS (MiB)")
        for column, style, width in (("latency_max_ns", ":", 1.0),
                                     ("latency_p99_ns", "-", 1.3),
                                     ("latency_mean_ns", "--", 1.0)):
            ys = [r[column] if r[column] else float("nan") for r in rows]
            ax_lat.plot(t, ys, linestyle=style, color=color, linewidth=width)
        ax_lat.set_yscale("log")
        ax_lat.set_ylabel("latency (log)")
        _duration_ticks(ax_lat.yaxis, latency_values)
    for ax in axes[-1]:
        ax.set_xlabel("time since run start (s)")
    for ax in axes[:, 0]:
        ax.set_ylim(bottom=0)
    handles = [Line2D([], [], color="0.2", linestyle="-", linewidth=1.3,
                      label="latency p99 (per interval)"),
               Line2D([], [], color="0.2", linestyle="--", linewidth=1.0, label="latency mean"),
               Line2D([], [], color="0.2", linestyle=":", linewidth=1.0, label="latency max")]
    if capacity_drawn:
        handles.append(Line2D([], [], color="0.5", linestyle="-.", linewidth=0.9,
                              label="queue capacity (depth)"))
    if any_burst:
        handles.append(Patch(facecolor="orange", alpha=0.3, label="burst window (in_burst)"))
    _legend_outside(axes[0][2], handles=handles)

    shape_label = f"{tl.shape[0]}x{tl.shape[1]}"
    results = [p[2] for p in panels if p[2] is not None]
    if any(r["oversubscribed"] == 1 for r in results):
        shape_label += "*"
    footer = []
    contexts = _unique(qbcsv.context_of(r) for r in results)
    if results_ds is not None and contexts:
        for ctx in contexts:
            footer.append(context_line(results_ds.context_info[ctx]))
    else:
        for host, sha in _unique((p[1][0]["host"], p[1][0]["git_sha"]) for p in panels):
            footer.append(f"machine: {host} (CPU model and cores: pass the results CSV)   "
                          f"commit: {sha}")
    if shape_label.endswith("*"):
        footer.append(OVERSUBSCRIBED_NOTE)
    footer.append("one repetition (not aggregated); latency of the items consumed in each "
                  "sampler interval, intended send to pop; blank where none was consumed")
    subtitle = tl.workload
    if results:
        subtitle = workload_text(tl.workload, [
            qbcsv.Group((None, None, tl.workload, tl.shape, qbcsv.variant_of(r), ""))
            for r in results])
    _finish(fig, f"Timeline - workload {tl.workload}, shape {shape_label}, rep {tl.rep}: "
                 f"queue depth, memory and latency over time", subtitle, footer)
    return fig


# --------------------------------------------------------------------------------------------
# All figures


def build_figures(ds, timeline=None):
    """Yields FigureOut for every figure, in a stable order (kinds, then workloads, shapes)."""
    for w in ds.workloads:
        if _all_kept_up(ds, w):
            continue  # every queue sits on the offered rate: nothing to see
        yield FigureOut(f"throughput_{_safe(w)}.png", "throughput",
                        f"Throughput by shape, {w}", fig_throughput(ds, w))
    for w in ds.workloads:
        for shape in ds.shapes(w):
            label = ds.shape_label(ds.groups_for(w), shape)
            yield FigureOut(f"latency_{_safe(w)}_{shape[0]}x{shape[1]}.png", "latency",
                            f"Latency percentiles, {w} {label}", fig_latency(ds, w, shape))
    for w in ds.workloads:
        yield FigureOut(f"cpu_{_safe(w)}.png", "cpu", f"CPU cost, {w}", fig_cpu(ds, w))
    for w in ds.workloads:
        fig = fig_wakeups(ds, w)
        if fig is not None:
            yield FigureOut(f"wakeups_{_safe(w)}.png", "wakeups", f"Wake-ups per item, {w}", fig)
    if timeline is not None:
        s = timeline.shape
        yield FigureOut(
            f"timeline_{_safe(timeline.workload)}_{s[0]}x{s[1]}_rep{timeline.rep}.png",
            "timeline", f"Timeline, {timeline.workload} {s[0]}x{s[1]} rep {timeline.rep}",
            fig_timeline(timeline, ds))


def _safe(text):
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text))


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.15)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Command line (shared with report.py)


def add_common_arguments(parser):
    parser.add_argument("results", nargs="+", metavar="RESULTS.csv",
                        help="qbench results CSV files (several machines or commits may mix)")
    parser.add_argument("--timeseries", nargs="+", action="extend", default=[],
                        metavar="TS.csv", help="qbench time-series CSV files (--timeseries of "
                                               "qbench run): adds the timeline figure")
    parser.add_argument("--ts-workload", metavar="W",
                        help="workload of the timeline (default: burst if present, else the "
                             "first)")
    parser.add_argument("--ts-shape", metavar="PxC",
                        help="shape of the timeline, e.g. 2x1 (default: the first in the file)")
    parser.add_argument("--ts-rep", type=int, metavar="N",
                        help="repetition of the timeline (default: the first)")
    parser.add_argument("--include-non-ok", action="store_true",
                        help="also plot rows whose verdict is not ok, as separate lines tagged "
                             "with their verdict (default: excluded, listed on stderr)")


def load_inputs(args, prog):
    """Reads and checks every input. Returns (Dataset, Timeline or None, warnings); the
    warnings are printed on stderr too. Raises InputError."""
    warnings = []
    rows = qbcsv.load_results(args.results)
    rows, sanitizer_rows = qbcsv.split_rows(rows)
    files = ", ".join(args.results)
    if sanitizer_rows:
        kinds = ", ".join(sorted({r["sanitizer"] for r in sanitizer_rows}))
        where = ", ".join(_unique(r["_file"] for r in sanitizer_rows))
        message = (f"{len(sanitizer_rows)} row(s) from a sanitizer build ({kinds}) in {where} "
                   f"refused: a sanitizer build checks correctness, its numbers are not results")
        if not rows:
            raise InputError(message)
        warnings.append(message)
    excluded = [r for r in rows if r["verdict"] != "ok"]
    ok_rows = [r for r in rows if r["verdict"] == "ok"]
    if not ok_rows and not args.include_non_ok:
        verdicts = ", ".join(f"{n} {v}" for v, n in sorted(
            _count(r["verdict"] for r in rows).items()))
        raise InputError(f"{files}: no rows with verdict ok ({verdicts}); "
                         f"--include-non-ok plots them anyway")
    if excluded:
        what = "plotted as separate lines" if args.include_non_ok else "excluded"
        lines = [qbcsv.describe_row(r) for r in excluded]
        if len(lines) > 20:
            lines = lines[:20] + [f"... and {len(excluded) - 20} more"]
        warnings.append(f"{len(excluded)} row(s) with a verdict other than ok {what}:\n  "
                        + "\n  ".join(lines))
    ds = Dataset(rows, include_non_ok=args.include_non_ok)

    timeline = None
    if args.timeseries:
        ts_rows = qbcsv.load_timeseries(args.timeseries)
        shape = parse_shape(args.ts_shape) if args.ts_shape else None
        timeline = select_timeline(ts_rows, rows + sanitizer_rows, args.ts_workload, shape,
                                   args.ts_rep, warnings)
    elif args.ts_workload or args.ts_shape or args.ts_rep is not None:
        raise InputError("--ts-workload/--ts-shape/--ts-rep need --timeseries")
    for w in warnings:
        print(f"{prog}: warning: {w}", file=sys.stderr)
    return ds, timeline, warnings


def _count(items):
    counts = {}
    for x in items:
        counts[x] = counts.get(x, 0) + 1
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG, description="PNG figures from qbench results CSV files "
                               "(see docs/figures.md for how to read them).")
    add_common_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="directory for the PNG files (created if missing)")
    args = parser.parse_args(argv)
    try:
        ds, timeline, _warnings = load_inputs(args, PROG)
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise InputError(f"--out {args.out}: exists and is not a directory")
        require_matplotlib(PROG)
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            raise InputError(f"--out {args.out}: cannot create the directory ({e.strerror})")
        for out in build_figures(ds, timeline):
            qbcsv.save_figure(out.fig, os.path.join(args.out, out.name))
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
