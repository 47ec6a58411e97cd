"""Suite mailboxes: per-key mailboxes (sharded queues) vs one shared queue.

Asks whether actor-style mailboxes (one queue per consumer, items routed by key) remove shared
state. Computes, per workload, shape, rate and number of keys, each queue's throughput, CPU per
item, p99 latency and per-key reorders (which must be 0 for the sharded queues), and compares
each sharded queue with its shared inner queue."""

import qbcsv

from .common import (
    MAX_LISTED, Suite, capacity_text, fmt_count, fmt_ns, fmt_rate, fmt_ratio, inner_queue, med,
    plural, raw, shape_of, shape_text, unique, _values, vmax,
)


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
        return (r["workload"], shape_of(r), raw(r, "rate_per_s"), raw(r, "capacity"))

    def analyze(self, data, out):
        settings = unique(self.setting_key(r) for r in data.rows)
        beat, lost = [], []
        for setting in settings:
            rows = [r for r in data.ok if self.setting_key(r) == setting]
            workload, shape, rate, cap = setting
            label = f"{workload} {shape_text(shape, data.rows)}"
            if rate:
                label += f" at {qbcsv.variant_value_text('rate_per_s', rate)}"
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
