"""Suite idle: what waiting costs (busy-waiting, sleep-polling, condition variables).

Asks whether busy-waiting burns the CPU, sleep-polling trades that CPU for latency and condition
variables wait for free. Computes, per trickle (steady workload, rate and shape), each queue's
cores busy, CPU per item and p50/p99 latency, compared by wait kind; and, for the flood
workload, which queues keep their throughput when oversubscribed (below COLLAPSE_PCT % of the
base shape's throughput a queue "collapsed")."""

import collections

import qbcsv

from .common import (
    KIND_ORDER, Suite, fmt_cores, fmt_ns, fmt_num, fmt_pct, fmt_rate, fmt_ratio, fmt_s, group, med,
    more_less, queue_kind, raw, shape_of, shape_text, sleep_interval_ns, unique, _values,
)

COLLAPSE_PCT = 50.0  # a queue keeping less than this % of its base throughput "collapsed"


class Idle(Suite):
    name = "idle"
    title = "what waiting costs: busy-waiting, sleep-polling, condition variables"
    claims = ("Busy-waiting burns the CPU, sleep-polling trades that CPU for latency, and "
              "condition variables wait for free.",)
    workloads = ("steady", "flood")
    figures = ("idle_cpu.png", "idle_latency.png", "idle_oversubscribed.png")

    def row_details(self, r):
        return [fmt_rate(r["rate_per_s"]) if r["rate_per_s"] else ""]

    @staticmethod
    def trickles(data):
        steady = [r for r in data.ok if r["workload"] == "steady"]
        return group(steady, lambda r: (shape_of(r), raw(r, "rate_per_s")))

    def analyze(self, data, out):
        trickles = self.trickles(data)
        if not trickles:
            out.section("Trickle (steady workload)")
            out.bullet("No steady row ended ok: nothing to say about the trickle rate.")
        for (shape, rate_text), rows in trickles.items():
            self._trickle(out, shape, rate_text, rows, data)
        self._flood(out, data)

    def _trickle(self, out, shape, rate_text, rows, data):
        label = f"steady {qbcsv.variant_value_text('rate_per_s', rate_text)}, " \
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
            label = (f"steady {qbcsv.variant_value_text('rate_per_s', rate_text)}, "
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
