"""Suite wakeups: wrong-thread wake-ups on a shared condition variable.

Asks whether notify_one on one condition variable shared by producers and consumers wakes the
wrong kind of thread and can stall, and whether separate not-empty / not-full conditions end
the wasted wake-ups. Computes, per workload, shape and capacity, each queue's wake-ups and
wasted wake-ups per item, its throughput and how many of its runs stalled."""

import collections

import qbcsv

from .common import (
    Suite, capacity_text, fmt_num, fmt_pct, fmt_rate, fmt_ratio, group, is_ok, med, per_item,
    plural, raw, shape_of, shape_text, unique, _values,
)


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
