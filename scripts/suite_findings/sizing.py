"""Suite sizing: how large a bounded queue should be.

Asks whether a bounded queue should be sized as consumer rate x burst length. Computes, per
configuration of the capacity sweep (backpressure drop), the items dropped at each capacity,
the textbook capacity mu x B and the queueing prediction (lambda - mu) x B, and judges each
against the smallest capacity whose repetitions all dropped nothing (under-sized, over-sized or
agreed)."""

import collections

import qbcsv

from .burst import Burst
from .common import (
    Suite, fmt_count, fmt_pct, fmt_ratio, fmt_s, med, plural, raw, reps_text, shape_of, shape_text,
    _values, vmax, vmin,
)


class Sizing(Suite):
    name = "sizing"
    title = "how large should a bounded queue be"
    claims = ("Size a bounded queue as consumer rate x burst length.",)
    workloads = ("burst",)
    figures = ("sizing_drops.png",)

    @staticmethod
    def config_key(r):
        return (r["queue"], shape_of(r), raw(r, "backpressure"), raw(r, "service_s"),
                raw(r, "burst_s"), raw(r, "peak_rate_per_s"), raw(r, "rate_per_s"), raw(r, "period_s"))

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
        burst_s, peak = r["burst_s"], r["peak_rate_per_s"]
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
                      f"{qbcsv.variant_value_text('peak_rate_per_s', key[5])}")
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
                       f"{fmt_count(r['peak_rate_per_s'])} items/s (peak_rate is the total rate "
                       f"during a burst, replacing the base rate of "
                       f"{fmt_count(r['rate_per_s'])} items/s).")
            out.bullet(f"Textbook capacity mu x B = {fmt_count(round(mu, 3))} x "
                       f"{fmt_s(r['burst_s'])} = {fmt_count(round(textbook))} items.")
            if queueing is not None:
                out.bullet(f"Queueing prediction (lambda - mu) x B = "
                           f"({fmt_count(r['peak_rate_per_s'])} - {fmt_count(round(mu, 3))}) x "
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
