"""Suite stealing: work stealing vs a central queue for spawned work.

Asks whether work stealing beats a central queue when workers spawn work (the tree workload).
Computes, per fanout, depth, shape and capacity, each queue's nodes per second, CPU per node
and inline nodes, checks the node counts, and compares the work-stealing queues with the
central ones."""

import qbcsv

from .common import (
    Suite, capacity_text, fmt_count, fmt_ns, fmt_pct, fmt_rate, fmt_ratio, group, med, more_less,
    plural, queue_kind, raw, shape_of, shape_text, unique, _values,
)


class Stealing(Suite):
    name = "stealing"
    title = "work stealing vs a central queue for spawned work"
    claims = ("Work stealing beats a central queue when workers spawn work.",)
    workloads = ("tree",)
    numeric = ("fanout", "tree_depth", "nodes_per_root", "inline_nodes")
    figures = ("stealing_throughput.png", "stealing_cpu.png")

    def row_details(self, r):
        return [f"fanout {raw(r, 'fanout')} depth {raw(r, 'tree_depth')}"]

    @staticmethod
    def shape_key(r):
        return (r["fanout"], r["tree_depth"], shape_of(r), raw(r, "capacity"))

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
