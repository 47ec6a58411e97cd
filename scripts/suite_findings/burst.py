"""Suite burst: bounded vs unbounded queues under a burst.

Asks whether a bounded queue gives backpressure while an unbounded one eats memory until the
process dies. Computes, per backpressure policy and from each run's time series, the p99
latency in and after the burst, the drain time (depth back to DRAIN_FRACTION of its peak) and
the peak depth against the capacity; then the RSS growth of bounded vs unbounded queues and the
run that hit the memory cap."""

import re

import qbcsv

from .common import (
    MAX_LISTED, Suite, capacity_text, fmt_count, fmt_mib, fmt_ns, fmt_pct, fmt_ratio, fmt_s, is_ok,
    med, more_less, plural, raw, row_text, shape_of, unique, _values, vmax,
)

DRAIN_FRACTION = 0.01  # "drained" = depth at or below 1% of the run's peak depth


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
                raw(r, "push_timeout_s"), raw(r, "burst_s"), raw(r, "peak_rate_per_s"),
                raw(r, "rate_per_s"), raw(r, "period_s"), shape_of(r))

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
                text += f", peak {qbcsv.variant_value_text('peak_rate_per_s', k[5])}"
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
        depth_peak = vmax(ts, "queue_depth")
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
            after = [t for t in ts[chosen[1]:nxt] if t["queue_depth"] is not None]
            done = next((t for t in after if t["queue_depth"] <= limit), None)
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
                         f"{fmt_mib(last['rss_bytes'])}, "
                         f"depth {fmt_count(last['queue_depth'])} items)")
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
        column = {"burst_depth.png": "queue_depth", "burst_rss.png": "rss_bytes"}.get(
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
        if column == "queue_depth":
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
        what = {"queue_depth": "queue depth", "rss_bytes": "resident memory",
                "latency_p99_ns": "latency p99 per sampler interval"}[column]
        if column == "latency_p99_ns":
            kit.log_y(ax, scaled)
            ax.set_ylabel(f"{what} ({unit}, log scale)")
        elif kit.log_needed(scaled, 200):
            ax.set_yscale("symlog", linthresh=10 if column == "queue_depth" else 1)
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
        rate = lambda v: qbcsv.variant_value_text("rate_per_s", v)  # noqa: E731
        return (f"{each('rate_per_s', rate)} base, {each('peak_rate_per_s', rate)} for "
                f"{each('burst_s', qbcsv.duration_s)} every "
                f"{each('period_s', qbcsv.duration_s)}, "
                + "/".join(unique(f"{r['producers']}x{r['consumers']}" for r in rows)))
