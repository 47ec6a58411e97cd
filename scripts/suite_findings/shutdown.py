"""Suite shutdown: how consumers learn to stop (close, poison pills, poll timeouts).

Asks whether shutting consumers down needs close, poison pills or poll timeouts. Computes each
queue's shutdown latency (last producer done to last consumer exit) by mode, the poll modes'
latency as a multiple of their poll interval, and whether any item was lost."""

import statistics

import qbcsv

from .common import (
    MAX_LISTED, Suite, fmt_count, fmt_num, fmt_s, med, plural, raw, row_text, unique, _values,
    vmax,
)


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
