#!/usr/bin/env python3
"""The issue-7 target table from one qbench results CSV (scripts/floor.sh writes it).

Every figure is a median over the ok repetitions of one configuration in the file; every
ratio compares medians from the same invocation. Prints a Markdown table (and writes it with
--out); exit 0 whether targets pass or not (a missed target is a finding, not an error), 2 on bad
input.

  /usr/bin/python3 scripts/targets.py results.csv [--out targets.md]
"""
import argparse
import csv
import statistics
import sys

PROG = "targets.py"

SPSC_OURS, SPSC_PEERS = "ring_spsc+spin", ("boost_spsc+spin", "atomic_queue_spsc+spin")
MPMC_OURS = "ring_mpmc+spin"
MPMC_AT_LEAST = ("boost_lockfree+spin", "moodycamel+spin", "tbb_bounded")
MPMC_WITHIN_10 = ("atomic_queue+spin",)


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


def medians(rows):
    """(queue, workload, recording) -> dict of medians over ok rows, with the rep count."""
    groups = {}
    for r in rows:
        if r["verdict"] != "ok" or int(r["rep"]) < 0:
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
        out[key] = {"n": len(g), "thr": med("throughput_per_s"), "p50": med("latency_p50_ns"),
                    "pinned": all(x["pinning"] for x in g)}
    return out


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

    def ratio_flood(ours, peer, factor):
        a, b = get(ours, "flood"), get(peer, "flood")
        if not a or not b:
            return None, f"{ours} or {peer}: no flood rows"
        r = a["thr"] / b["thr"]
        return r >= factor, (f"{ours} {fmt_rate(a['thr'])} / {peer} {fmt_rate(b['thr'])} = "
                             f"{r:.2f}x (target >= {factor:g}x)")

    def ratio_p50(ours, peer, factor):
        a, b = get(ours, "pingpong"), get(peer, "pingpong")
        if not a or not b:
            return None, f"{ours} or {peer}: no pingpong rows"
        r = a["p50"] / b["p50"]
        return r <= factor, (f"{ours} {fmt_ns(a['p50'])} / {peer} {fmt_ns(b['p50'])} = "
                             f"{r:.2f}x (target <= {factor:g}x)")

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
    return "\n".join(lines) + "\n"


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
