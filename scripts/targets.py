#!/usr/bin/env python3
"""The issue-7 and issue-13 target tables from one qbench results CSV (scripts/floor.sh).

Every figure is a median over the ok repetitions of one configuration in the file; every
ratio compares medians from the same invocation. With `--calibrate` rows (bare_items_per_s,
bare_rtt_p50_ns, fidelity, clock_cost_ns) it adds each queue's bare reference, the fidelity
targets (flood / bare >= 0.90 latency off, >= 0.85 on; pingpong p50 <= (bare round trip + one
clock read) x 1.1), and a comparison between queues holds only where their bare references
agree. The targets are for the default 24-byte item; floods of other sizes (--item-bytes) get a
table of their fidelity, without targets. Prints Markdown (and writes it with
--out); exit 0 whether targets pass or not (a missed target is a finding, not an error), 2 on bad
input.

  /usr/bin/python3 scripts/targets.py results.csv [--out targets.md]
"""
import argparse
import csv
import math
import statistics
import sys

PROG = "targets.py"

SPSC_OURS, SPSC_PEERS = "ring_spsc+spin", ("boost_spsc+spin", "atomic_queue_spsc+spin")
MPMC_OURS = "ring_mpmc+spin"
MPMC_AT_LEAST = ("boost_lockfree+spin", "moodycamel+spin", "tbb_bounded")
MPMC_WITHIN_10 = ("atomic_queue+spin",)


# The targets are for qbench's default item (Item: the id and the two times); the other sizes'
# fidelity is listed apart, with no target.
DEFAULT_ITEM_BYTES = 24


class InputError(Exception):
    pass


def load(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})")
    need = {"queue", "workload", "verdict", "rep", "throughput_per_s", "latency_p50_ns",
            "latency_recording", "floor_rtt_p50_ns", "pinning", "producers", "consumers"}
    if not rows:
        raise InputError(f"{path}: no rows")
    missing = need - set(rows[0])
    if missing:
        raise InputError(f"{path}: not a qbench results file with the issue-7 columns "
                         f"(missing {', '.join(sorted(missing))})")
    return rows


def item_bytes(row):
    """What each push carried (files from before --item-bytes carried the default)."""
    return int(row.get("item_bytes") or DEFAULT_ITEM_BYTES)


def medians(rows, size=DEFAULT_ITEM_BYTES):
    """(queue, workload, recording) -> dict of medians over the ok rows of items of `size`
    bytes, with the rep count."""
    groups = {}
    for r in rows:
        if r["verdict"] != "ok" or int(r["rep"]) < 0 or item_bytes(r) != size:
            continue
        if (r["producers"], r["consumers"]) != ("1", "1"):
            continue
        key = (r["queue"], r["workload"], r["latency_recording"])
        groups.setdefault(key, []).append(r)
    out = {}
    for key, g in groups.items():
        def med(col):
            vals = [float(x[col]) for x in g if x[col] != ""]
            return statistics.median(vals) if vals else None
        def opt(col):  # a --calibrate column: absent from older files
            vals = [float(x[col]) for x in g if x.get(col)]
            return statistics.median(vals) if vals else None
        fids = [float(x["fidelity"]) for x in g if x.get("fidelity")]
        regimes = [regime(x, "median_depth") for x in g]
        bare_regimes = [regime(x, "bare_median_depth") for x in g]
        out[key] = {"n": len(g), "thr": med("throughput_per_s"), "p50": med("latency_p50_ns"),
                    "pinned": all(x["pinning"] for x in g),
                    "bare": opt("bare_items_per_s" if key[1] == "flood" else "bare_rtt_p50_ns"),
                    "fid": statistics.median(fids) if fids else None,
                    "fid_range": (min(fids), max(fids)) if fids else None,
                    "fid_interval": median_interval(fids),
                    "regimes": regime_counts(regimes), "bare_regimes": regime_counts(bare_regimes),
                    "clock": opt("clock_cost_ns"),
                    # The regime: median depth of the runs and of their references (flood).
                    "depth": opt("median_depth"), "bare_depth": opt("bare_median_depth")}
    return out


# Where a flood run sat, from its median depth against the capacity: "empty" (under a tenth: the
# consumer waits on the producer), "full" (at least nine tenths: the producer waits) or "mid".
# Two threads of about the same speed can settle in either, and a fast queue's throughput can
# differ by more than the targets' 10% between them, so a run and its reference in different
# regimes differ by the draw, not by the harness.
REGIMES = ("empty", "mid", "full")


def regime(row, column):
    try:
        depth, capacity = float(row.get(column) or ""), float(row.get("capacity") or "")
    except ValueError:
        return None  # no depth (not a flood, an older file) or no bound
    if not capacity > 0 or math.isinf(capacity):
        return None
    return "empty" if depth < 0.1 * capacity else "full" if depth >= 0.9 * capacity else "mid"


def regime_counts(regimes):
    """'3/7/0': how many runs sat empty / mid / full; None when none could be placed."""
    if not any(regimes):
        return None
    return "/".join(str(regimes.count(r)) for r in REGIMES)


def median_interval(values, level=0.95):
    """A distribution-free interval for the median the values sample: the order statistics
    x(k) and x(n+1-k), with the largest k such that the median falls below x(k) with probability
    (binomial, one half) at most (1 - level) / 2. For 10 values: x(2)..x(9), 97.9%. None under 6
    values, where even the extremes do not reach the level."""
    xs = sorted(values)
    n = len(xs)
    k, below = 0, 0.0
    while k < n:
        below += math.comb(n, k) / 2 ** n
        if below > (1 - level) / 2:
            break
        k += 1
    return (xs[k - 1], xs[n - k]) if k else None


def fmt_rate(v):
    return "-" if v is None else f"{v / 1e6:.2f}M/s"


def fmt_ns(v):
    return "-" if v is None else f"{v:.0f} ns"


def build(rows):
    m = medians(rows)
    floors = [float(r["floor_rtt_p50_ns"]) for r in rows if r.get("floor_rtt_p50_ns")]
    floor = statistics.median(floors) if floors else None
    lines = []
    verdicts = []

    def get(q, w, rec="on"):
        return m.get((q, w, rec))

    def check(name, ok, detail):
        verdicts.append(ok)
        mark = "met" if ok else ("**missed**" if ok is not None else "no data")
        lines.append(f"| {name} | {detail} | {mark} |")

    reps = sorted({v["n"] for v in m.values()})
    pinned = all(v["pinned"] for v in m.values()) if m else False
    lines.append(f"Medians of {', '.join(map(str, reps))} repetitions per configuration, "
                 f"1 producer / 1 consumer, {'pinned' if pinned else 'NOT pinned'}, one invocation.")
    lines.append("")
    lines.append("| queue | flood (latency on) | flood (latency off) | recording cost | "
                 "pingpong p50 |")
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    queues = []
    for (q, w, rec) in m:
        if q not in queues:
            queues.append(q)
    for q in queues:
        on, off, pp = get(q, "flood"), get(q, "flood", "off"), get(q, "pingpong")
        cost = (f"{(1 - on['thr'] / off['thr']) * 100:.1f}%"
                if on and off and off["thr"] else "-")
        lines.append(f"| {q} | {fmt_rate(on and on['thr'])} | {fmt_rate(off and off['thr'])} | "
                     f"{cost} | {fmt_ns(pp and pp['p50'])} |")
    lines.append("")
    if floor is not None:
        lines.append(f"Floor (`--calibrate`): bare atomic round trip p50 {floor:.0f} ns.")
        lines.append("")
    lines.append("| target | measured | |")
    lines.append("| --- | --- | --- |")

    # A claim between two queues holds only if their bare references (measured in the same
    # invocation) say the same: otherwise the harness, not the queue, decided it.
    def ratio_flood(ours, peer, factor):
        a, b = get(ours, "flood"), get(peer, "flood")
        if not a or not b:
            return None, f"{ours} or {peer}: no flood rows"
        r = a["thr"] / b["thr"]
        ok, detail = r >= factor, (f"{ours} {fmt_rate(a['thr'])} / {peer} {fmt_rate(b['thr'])} = "
                                   f"{r:.2f}x (target >= {factor:g}x)")
        if a["bare"] and b["bare"]:
            rb = a["bare"] / b["bare"]
            ok = ok and rb >= factor
            detail += f"; bare {fmt_rate(a['bare'])} / {fmt_rate(b['bare'])} = {rb:.2f}x"
        return ok, detail

    def ratio_p50(ours, peer, factor):
        a, b = get(ours, "pingpong"), get(peer, "pingpong")
        if not a or not b:
            return None, f"{ours} or {peer}: no pingpong rows"
        r = a["p50"] / b["p50"]
        ok, detail = r <= factor, (f"{ours} {fmt_ns(a['p50'])} / {peer} {fmt_ns(b['p50'])} = "
                                   f"{r:.2f}x (target <= {factor:g}x)")
        if a["bare"] and b["bare"]:
            rb = a["bare"] / b["bare"]
            ok = ok and rb <= factor
            detail += f"; bare {fmt_ns(a['bare'])} / {fmt_ns(b['bare'])} = {rb:.2f}x"
        return ok, detail

    for peer in SPSC_PEERS:
        check(f"{SPSC_OURS} flood >= {peer}", *ratio_flood(SPSC_OURS, peer, 1.0))
    spsc_peers = [p for p in SPSC_PEERS if get(p, "pingpong")]
    if spsc_peers:
        best = min(spsc_peers, key=lambda p: get(p, "pingpong")["p50"])
        check(f"{SPSC_OURS} pingpong p50 <= 1.05x best SPSC peer ({best})",
              *ratio_p50(SPSC_OURS, best, 1.05))
    for peer in MPMC_AT_LEAST:
        check(f"{MPMC_OURS} flood >= {peer}", *ratio_flood(MPMC_OURS, peer, 1.0))
    for peer in MPMC_WITHIN_10:
        check(f"{MPMC_OURS} flood within 10% of {peer}", *ratio_flood(MPMC_OURS, peer, 0.9))
    for peer in MPMC_AT_LEAST:
        check(f"{MPMC_OURS} pingpong p50 <= {peer}", *ratio_p50(MPMC_OURS, peer, 1.0))
    for peer in MPMC_WITHIN_10:
        check(f"{MPMC_OURS} pingpong p50 within 10% of {peer}", *ratio_p50(MPMC_OURS, peer, 1.1))
    pp = {q: v for (q, w, rec), v in m.items() if w == "pingpong" and v["p50"]}
    if pp and floor:
        best = min(pp, key=lambda q: pp[q]["p50"])
        r = pp[best]["p50"] / floor
        check("best pingpong p50 <= 1.3x the atomic floor", r <= 1.3,
              f"{best} {fmt_ns(pp[best]['p50'])} / floor {floor:.0f} ns = {r:.2f}x")
    else:
        check("best pingpong p50 <= 1.3x the atomic floor", None, "needs --calibrate and pingpong")
    costs = []
    for q in queues:
        on, off = get(q, "flood"), get(q, "flood", "off")
        if on and off and off["thr"]:
            costs.append((1 - on["thr"] / off["thr"], q))
    if costs:
        worst = max(costs)
        check("latency recording costs <= 10% of flood throughput (every queue)",
              worst[0] <= 0.10, f"worst: {worst[1]} {worst[0] * 100:.1f}%")
    met = sum(1 for v in verdicts if v)
    lines.append("")
    lines.append(f"{met} of {len(verdicts)} targets met.")
    if any(v["fid"] is not None for v in m.values()):
        lines.append("")
        lines += fidelity_section(m, queues)
    lines += sizes_section(rows)
    return "\n".join(lines) + "\n"


def sizes_section(rows):
    """Floods of other item sizes (--item-bytes): each queue's fidelity, without a target."""
    sizes = sorted({item_bytes(r) for r in rows} - {DEFAULT_ITEM_BYTES})
    if not sizes:
        return []
    lines = ["", "Other item sizes (`--item-bytes`), flood: fidelity = qbench / bare, median "
             "(min..max) over the repetitions; no target (the targets are for the "
             f"{DEFAULT_ITEM_BYTES}-byte default).", "",
             "| queue | bytes | latency | flood | bare flood | fidelity | median depth / bare |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for size in sizes:
        m = medians(rows, size)
        for (q, w, rec), v in m.items():
            if w != "flood":
                continue
            fid = "-" if v["fid"] is None else \
                f"{v['fid']:.2f} ({v['fid_range'][0]:.2f}..{v['fid_range'][1]:.2f})"
            depth = f"{fmt_depth(v['depth'])} / {fmt_depth(v['bare_depth'])}"
            lines.append(f"| {q} | {size} | {rec} | {fmt_rate(v['thr'])} | "
                         f"{fmt_rate(v['bare'])} | {fid} | {depth} |")
    return lines


def fmt_depth(v):
    return "-" if v is None else f"{v / 1e3:.1f}k" if v >= 1000 else f"{v:.0f}"


def fidelity_section(m, queues):
    """Issue 13: every queue against its own bare reference (qbench run --calibrate)."""
    lines = ["Fidelity (`--calibrate`): each row over the bare reference run right after it; "
             "median (min..max) over the repetitions.", "",
             "| queue | bare flood | flood off / bare | flood on / bare | "
             "median depth off / on / bare | bare round trip | pingpong p50 |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def fid(v):
        if not v or v["fid"] is None:
            return "-"
        return f"{v['fid']:.2f} ({v['fid_range'][0]:.2f}..{v['fid_range'][1]:.2f})"

    for q in queues:
        on, off, pp = m.get((q, "flood", "on")), m.get((q, "flood", "off")), \
            m.get((q, "pingpong", "on"))
        bare = (off or on or {}).get("bare")
        bare_depths = [v["bare_depth"] for v in (off, on) if v and v["bare_depth"] is not None]
        depths = " / ".join(fmt_depth(v) for v in (
            off and off["depth"], on and on["depth"],
            statistics.median(bare_depths) if bare_depths else None))
        lines.append(f"| {q} | {fmt_rate(bare)} | {fid(off)} | {fid(on)} | {depths} | "
                     f"{fmt_ns(pp and pp['bare'])} | {fmt_ns(pp and pp['p50'])} |")
    lines += ["", "A flood target's interval is the 95% distribution-free interval of the median "
              "fidelity (order statistics); the runs are counted by regime, empty / mid / full "
              "(median depth under a tenth of the capacity, between, at least nine tenths), for "
              "qbench and for its references.", "",
              "| target | measured | |", "| --- | --- | --- |"]
    met = total = 0
    undecided = []  # targets whose interval reaches across the bound: met or missed by the draw

    def check(name, ok, detail):
        nonlocal met, total
        total += 1
        met += bool(ok)
        lines.append(f"| {name} | {detail} | {'met' if ok else '**missed**'} |")

    for q in queues:
        for rec, floor in (("off", 0.90), ("on", 0.85)):
            v = m.get((q, "flood", rec))
            if v and v["fid"] is not None:
                name = f"{q} flood, latency {rec}: qbench / bare >= {floor:.2f}"
                detail = f"{v['fid']:.2f}"
                extra = []
                if v["fid_interval"]:
                    lo, hi = v["fid_interval"]
                    extra.append(f"interval {lo:.2f}..{hi:.2f}")
                    if lo < floor <= hi:
                        undecided.append(f"{q} latency {rec}")
                if v["regimes"] and v["bare_regimes"]:
                    extra.append(f"regimes {v['regimes']}, bare {v['bare_regimes']}")
                if extra:
                    detail += f" ({'; '.join(extra)})"
                check(name, v["fid"] >= floor, detail)
        pp = m.get((q, "pingpong", "on"))
        if pp and pp["bare"] and pp["p50"]:
            limit = (pp["bare"] + (pp["clock"] or 0)) * 1.1
            check(f"{q} pingpong p50 <= (bare + clock read) x 1.1",
                  pp["p50"] <= limit,
                  f"{fmt_ns(pp['p50'])} against {fmt_ns(limit)} (bare {fmt_ns(pp['bare'])}, "
                  f"clock {fmt_ns(pp['clock'])}): "
                  f"{(pp['p50'] / (pp['bare'] + (pp['clock'] or 0)) - 1) * 100:+.0f}%")
    lines += ["", f"{met} of {total} fidelity targets met."]
    if undecided:
        lines += ["", f"Undecided: {len(undecided)} flood targets, met or missed, have an "
                  "interval that reaches across the bound, so these repetitions do not decide "
                  f"them either way ({', '.join(undecided)})."]
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("csv")
    p.add_argument("--out", metavar="FILE", help="also write the table here")
    a = p.parse_args(argv)
    try:
        text = build(load(a.csv))
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    if a.out:
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        import os
        os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
