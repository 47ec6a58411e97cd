#!/usr/bin/python3
"""Findings (Markdown) and figures (PNG) for one `qbench suite NAME` experiment.

    scripts/suite_report.py NAME RESULTS.csv [--timeseries TS.csv] --out DIR [--command TEXT]

NAME is one of: idle, wakeups, burst, sizing, shutdown, stealing, mailboxes. Writes
DIR/findings.md and these figures in DIR/figures/ (always the same names whatever the data; a
figure without data says so in its body), and prints the paths written, one per line:
  idle        idle_cpu.png idle_latency.png idle_oversubscribed.png
  wakeups     wakeups_per_item.png wakeups_throughput.png
  burst       burst_depth.png burst_rss.png burst_latency.png
  sizing      sizing_drops.png
  shutdown    shutdown_latency.png
  stealing    stealing_throughput.png stealing_cpu.png
  mailboxes   mailboxes_throughput.png mailboxes_reorders.png

findings.md names the machine, commit, command and date, quotes the textbook claim the suite
tests, then states what the CSV shows. Every number, comparison word and ranking in it is
computed from the CSV: repetitions are aggregated by their median (rows with rep < 0 are
warm-ups and are ignored), only rows with verdict ok enter the medians, and the other rows are
listed (the wakeups suite counts its stalled runs, the burst suite reports its memory_cap run).
The column meanings are in results/README.md.

The time series (--timeseries) is read by the burst suite only (it needs it); the others accept
and ignore it. Bad input (a missing file or column, an unknown suite, no rows for the suite): one
line on stderr, exit code 2, nothing written. Without python3-matplotlib, findings.md is written
and the script exits 1.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qbcsv  # noqa: E402
from qbcsv import InputError  # noqa: E402
from suite_findings import SUITES  # noqa: E402
from suite_findings.common import Data, Findings, write_findings  # noqa: E402
from suite_findings.figures import FigureKit  # noqa: E402

PROG = "suite_report.py"

# Columns each suite reads beyond those qbcsv.load_results parses. Missing ones: exit 2.
COMMON_NUMERIC = ("offered", "accepted", "lost", "elapsed_s")


# --------------------------------------------------------------------------------------------
# Command line


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: error: {message} (usage: {PROG} NAME RESULTS.csv --out DIR "
              f"[--timeseries TS.csv] [--command TEXT])", file=sys.stderr)
        sys.exit(2)


def parse_args(argv):
    parser = Parser(prog=PROG, description="Findings (Markdown) and figures for one qbench "
                                           "suite: " + ", ".join(SUITES) + ".")
    parser.add_argument("suite", metavar="NAME", help="suite name: " + ", ".join(SUITES))
    parser.add_argument("results", metavar="RESULTS.csv", help="the suite's results CSV")
    parser.add_argument("--timeseries", metavar="TS.csv",
                        help="the suite's time-series CSV (the burst suite needs it)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="directory for findings.md and figures/ (created if missing)")
    parser.add_argument("--command", default="", metavar="TEXT",
                        help="the qbench command line that produced the CSV (quoted in "
                             "findings.md)")
    return parser.parse_args(argv)


def load(args):
    """Reads and checks the input. Returns (suite, data). Raises InputError."""
    suite_class = SUITES.get(args.suite)
    if suite_class is None:
        raise InputError(f"unknown suite {args.suite!r} (known: {', '.join(SUITES)})")
    suite = suite_class()
    rows = qbcsv.load_results([args.results])
    qbcsv.parse_more_columns(rows, numeric=COMMON_NUMERIC + suite.numeric,
                             text=suite.text_columns)
    rows, sanitizer = qbcsv.split_rows(rows)
    if sanitizer and not rows:
        raise InputError(f"{args.results}: every row comes from a sanitizer build "
                         f"({sanitizer[0]['sanitizer']}): its numbers are not results")
    if sanitizer:
        print(f"{PROG}: warning: {len(sanitizer)} row(s) from a sanitizer build ignored",
              file=sys.stderr)
    if not any(r["rep"] >= 0 for r in rows):
        raise InputError(f"{args.results}: no rows with rep >= 0 (only warm-up rows)")
    ts_rows = []
    if suite.needs_timeseries:
        if not args.timeseries:
            raise InputError(f"suite {suite.name} needs --timeseries TS.csv (the time series "
                             f"of its runs)")
        ts_rows = qbcsv.load_timeseries([args.timeseries])
        qbcsv.parse_more_columns(ts_rows, numeric=("consumed", "accepted", "refused"),
                                 required=False)
    used = suite.select([r for r in rows if r["rep"] >= 0], args.results)
    used += [r for r in rows if r["rep"] < 0
             and (suite.workloads is None or r["workload"] in suite.workloads)]
    return suite, Data(suite, args.results, used, ts_rows)


def build_findings(args):
    """Reads the input named by args (from parse_args) and returns (suite, data, the text of
    findings.md). Raises InputError. Draws nothing (the tests call it directly)."""
    suite, data = load(args)
    body = Findings()
    suite.analyze(data, body)
    return suite, data, write_findings(suite, data, args, body, suite.figures)


def main(argv=None):
    args = parse_args(argv)
    try:
        suite, data, text = build_findings(args)
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise InputError(f"--out {args.out}: exists and is not a directory")
        figures_dir = os.path.join(args.out, "figures")
        try:
            os.makedirs(figures_dir, exist_ok=True)
        except OSError as e:
            raise InputError(f"--out {args.out}: cannot create the directory ({e.strerror})")
        path = os.path.join(args.out, "findings.md")
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise InputError(f"{path}: cannot write ({e.strerror})")
        print(path, flush=True)
        try:
            kit = FigureKit()
        except ImportError:
            print(f"{PROG}: error: python3-matplotlib is not installed (scripts/deps.sh --plots "
                  f"installs it); findings.md was written, the figures were not",
                  file=sys.stderr)
            return 1
        for name in suite.figures:
            qbcsv.save_figure(suite.draw(data, name, kit), os.path.join(figures_dir, name))
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
