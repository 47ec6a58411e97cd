#!/usr/bin/python3
"""Tests of scripts/suite_report.py (findings.md and figures of `qbench suite NAME`).

    /usr/bin/python3 tests/test_suite_report.py
    /usr/bin/python3 -m unittest discover -s tests -p 'test_suite_report.py'

Each suite has a hand-made fixture, tests/fixtures/suite_<name>.csv (and suite_burst_ts.csv, the
time series of the burst suite), whose numbers were chosen so that the expected findings can be
worked out by hand; the comments below give the arithmetic. A wrong aggregation (mean instead
of median, warm-up or non-ok rows counted, the wrong reference queue) changes a number that is
checked. The seven suites run as subprocesses, as `qbench suite` runs the script; variants of
the fixtures (one number changed to flip a conclusion) go through suite_report.build_findings
in-process. Figure checks need python3-matplotlib and are skipped without it. Paths are relative
to this file, so the tests run from any directory (CTest runs them from the build directory).
"""

import csv
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPTS = os.path.join(ROOT, "scripts")
SCRIPT = os.path.join(SCRIPTS, "suite_report.py")
FIXTURES = os.path.join(HERE, "fixtures")
BURST_TS = os.path.join(FIXTURES, "suite_burst_ts.csv")

# Debian's interpreter has Debian's matplotlib; another python3 first on PATH may not.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TIMEOUT_S = 120
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

sys.path.insert(0, SCRIPTS)
import suite_report  # noqa: E402

SUITES = ("idle", "wakeups", "burst", "sizing", "shutdown", "stealing", "mailboxes")
FIGURES = {
    "idle": {"idle_cpu.png", "idle_latency.png", "idle_oversubscribed.png"},
    "wakeups": {"wakeups_per_item.png", "wakeups_throughput.png"},
    "burst": {"burst_depth.png", "burst_rss.png", "burst_latency.png"},
    "sizing": {"sizing_drops.png"},
    "shutdown": {"shutdown_latency.png"},
    "stealing": {"stealing_throughput.png", "stealing_cpu.png"},
    "mailboxes": {"mailboxes_throughput.png", "mailboxes_reorders.png"},
}


def fixture(suite):
    return os.path.join(FIXTURES, f"suite_{suite}.csv")


def command(suite, results, out, timeseries=None):
    args = [PYTHON, SCRIPT, suite, results, "--out", out, "--command",
            f"qbench suite {suite} --out {out}"]
    if timeseries:
        args += ["--timeseries", timeseries]
    return args


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def has_matplotlib():
    probe = subprocess.run([PYTHON, "-c", "import matplotlib"], capture_output=True)
    return probe.returncode == 0


HAS_MATPLOTLIB = has_matplotlib()


# ------------------------------------------------------------------------------------------
# The seven suites on their fixtures (one subprocess each, run in parallel)


class SuitesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="qbench-suite-report-")
        cls.out = {}
        procs = {}
        for suite in SUITES:
            out = os.path.join(cls._tmp.name, suite)
            cls.out[suite] = out
            ts = BURST_TS if suite == "burst" else None
            procs[suite] = subprocess.Popen(command(suite, fixture(suite), out, ts),
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True)
        cls.results = {}
        for suite, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            cls.results[suite] = (proc.returncode, stdout, stderr)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def findings(self, suite):
        rc, _stdout, stderr = self.results[suite]
        expected_rc = 0 if HAS_MATPLOTLIB else 1
        self.assertEqual(rc, expected_rc, f"{suite}: exit {rc}, stderr: {stderr}")
        self.assertNotIn("Traceback", stderr)
        with open(os.path.join(self.out[suite], "findings.md"), encoding="utf-8") as f:
            return f.read()

    def assertAll(self, text, *needles):
        for needle in needles:
            self.assertIn(needle, text)

    def test_header_of_every_findings_file(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                text = self.findings(suite)
                self.assertTrue(text.startswith(f"# Suite {suite}: "))
                self.assertAll(text, "- Machine: fixture-host (Fixture CPU 2.0GHz, ",
                               "Linux 6.1.0-fixture)", "- Commit: f1x7ure5ha01",
                               f"- Command: `qbench suite {suite} --out ",
                               "- Date: 2026-01-02T03:04:05Z", "## Claim\n\n> ",
                               "## Findings", "## Figures")
                for name in FIGURES[suite]:
                    self.assertIn(f"(figures/{name})", text)

    @unittest.skipUnless(HAS_MATPLOTLIB, "python3-matplotlib is not installed")
    def test_every_figure_is_a_png(self):
        for suite in SUITES:
            with self.subTest(suite=suite):
                self.findings(suite)
                figures = os.path.join(self.out[suite], "figures")
                self.assertEqual(set(os.listdir(figures)), FIGURES[suite])
                printed = self.results[suite][1].split()
                self.assertIn(os.path.join(self.out[suite], "findings.md"), printed)
                for name in FIGURES[suite]:
                    path = os.path.join(figures, name)
                    self.assertIn(path, printed)
                    with open(path, "rb") as f:
                        head = f.read(24)
                    self.assertTrue(head.startswith(PNG_SIGNATURE), f"{path}: not a PNG")
                    self.assertEqual(head[12:16], b"IHDR", path)
                    width, height = struct.unpack(">II", head[16:24])
                    self.assertGreater(width, 100)
                    self.assertGreater(height, 100)

    def test_idle(self):
        text = self.findings("idle")
        # mutex_cv: reps 0.010, 0.012, 0.011 -> 0.011 (the warm-up rep -1 at 5.0 would make it
        # 0.0115 and 4 reps); mutex_deque+yield: ok reps 1.00, 1.04 -> 1.02 (the failed rep at
        # 0.1 would make it 1.0).
        self.assertAll(
            text, "| mutex_cv | condition variable | 3 | 0.011 |",
            "| mutex_deque+yield | yielding | 2 | 1.02 |",
            "1 warm-up row (rep < 0) ignored",
            "mutex_deque+yield steady 1x1 1k/s rep 2: failed (3 items lost)",
            "least first: mutex_deque+sleep:1000 0.001 cores, mutex_deque+sleep:100 0.004 "
            "cores, split_cv 0.009 cores, mutex_cv 0.011 cores, mutex_deque+park 0.015 cores, "
            "moodycamel_blocking 0.02 cores, mutex_deque+yield 1.02 cores, mutex_deque+spin "
            "1.99 cores.",
            "p50 latency (intended send to pop), lowest first: mutex_deque+spin 1.5us, "
            "mutex_deque+yield 3us, mutex_deque+park 20us, moodycamel_blocking 30us, split_cv "
            "38us,",
            # 1.99 / 0.009 = 221; 1.02 / 0.009 = 113
            "mutex_deque+spin (spinning) burned 1.99 cores, 221x the 0.009 cores of split_cv, "
            "the cheapest condition-variable queue.",
            "mutex_deque+yield (yielding) burned 1.02 cores, 113x the 0.009 cores of split_cv",
            # sleep:100: 1.99 - 0.004 = 1.986 (99.8% of 1.99) saved; 0.009 - 0.004 = 0.005 less
            # than split_cv; p50 95us - 38us = 57us added
            "mutex_deque+sleep:100 (polls every 100us) burned 0.004 cores, 1.99 cores less than "
            "mutex_deque+spin (99.8% saved); vs split_cv, the cheapest condition-variable queue: "
            "0.005 cores less CPU, latency p50 95us, 57us more than split_cv's 38us",
            "Condition variables were not free: the cheapest, split_cv, burned 0.009 cores",
            "more than the cheapest sleep poller, mutex_deque+sleep:1000 (0.001 cores). This "
            "disagrees with the claim that condition variables wait for free",
            # flood: (3.6M, 3.8M) / (4.0M, 4.2M) -> 3.7M / 4.1M = 90.2%; 0.31M / 10M = 3.1%
            "Flood throughput at 1x2* (oversubscribed: 3 threads on 2 cores) as a % of 1x1, "
            "highest first: mutex_cv 90.2% (4.1M/s -> 3.7M/s), moodycamel+spin 80% (20M/s -> "
            "16M/s), mutex_deque+spin 3.1% (10M/s -> 310k/s).",
            "Busy-waiting queues collapsed when oversubscribed at 1x2* (below 50% of 1x1): "
            "mutex_deque+spin kept only 3.1%.")
        self.assertNotIn("No busy-waiting queue collapsed", text)

    def test_wakeups(self):
        text = self.findings("wakeups")
        self.assertAll(
            text,
            # 4x4 mutex_cv per rep: 2.4/2.5/2.7 wake-ups, 1.44/1.5/1.62 wasted (60%) per item
            "mutex_cv woke 2.5 times per item, 1.5 of them wasted (60% of its wake-ups), "
            "notified 2 times per item, 1.5M items/s (median of 3 reps).",
            # the two stalled reps (9 wake-ups per item) stay out of the median
            "mutex_cv_one woke 0.8 times per item, 0.3 of them wasted (37.5% of its wake-ups), "
            "notified 1 times per item, 1.8M items/s (median of 1 rep).",
            "mutex_cv_one stalled in 2 of 3 reps at flood 4x4*, capacity 2; the watchdog ended "
            "them (nothing consumed for 2000 ms",
            "mutex_cv_one did not stall in any of its 3 reps at flood 2x2*, capacity 2",
            "| mutex_cv_one | 1 | 2 | 0.8 | 0.3 | 37.5% | 1 | 1.8M/s |",
            "Agrees with the claim: split_cv wasted no wake-up at flood 2x2*, capacity 2",
            # 1.5 / 0.1 = 15
            "Disagrees with the claim: split_cv still wasted 0.1 wake-ups per item at flood "
            "4x4*, capacity 2 (20% of its wake-ups), 15x fewer than mutex_cv (1.5 per item).",
            "Throughput, highest first: split_cv 2.5M/s, mutex_cv_one 1.8M/s, mutex_cv 1.5M/s.")

    def test_burst(self):
        text = self.findings("burst")
        self.assertAll(
            text,
            # two reps: p99 in burst max 8ms / 10ms -> 9ms, after 12ms / 14ms -> 13ms; depth at
            # or below 1% of 1000 at 0.45 s / 0.47 s, burst over at 0.15 s -> 300ms / 320ms
            "capacity 1000, block, burst 50ms (2 reps): p99 latency 9ms during the burst and "
            "13ms after it; drained 310ms after the burst ended; peak depth 1,000 items; peak "
            "RSS 7 MiB (+1 MiB); 0 rejected, 0 dropped",
            "capacity 1000, timeout 10ms, burst 50ms (1 rep): p99 latency 6ms during the burst "
            "and 9ms after it; drained 250ms after the burst ended",
            "3,000 rejected, 0 dropped (23.1% of 13,000 offered)",
            # the last in-burst interval (6ms) is not "after" the burst (5ms at most)
            "capacity 1000, drop, burst 50ms (1 rep): p99 latency 6ms during the burst and 5ms "
            "after it; drained 200ms",
            "0 rejected, 4,000 dropped (28.6% of 14,000 offered)",
            # depth 4900 - 50/sample falls to <= 49 at 1.13 s: 0.98 s after 0.15 s
            "unbounded, block, burst 50ms (1 rep): p99 latency 20ms during the burst and 60ms "
            "after it; drained 980ms after the burst ended; peak depth 4,900 items; peak RSS 46 "
            "MiB (+40 MiB)",
            # 46 - 6 = 40 MiB vs at most 7.5 - 6 = 1.5 MiB bounded: 38.5 MiB more, 26.7x
            "RSS grew by 40 MiB with unbounded, block, burst 50ms, 38.5 MiB more than the most "
            "any bounded policy grew (1.5 MiB, capacity 1000, drop, burst 50ms): 26.7x; agrees "
            "with the claim",
            "unbounded, block, burst 5s was stopped by the memory cap 2.3s after the start "
            "(last sample: RSS 540 MiB, depth 9.2M items): \"RSS 512 MiB crossed --max-rss 512 "
            "MiB at depth 9200000\"",
            "split_cv burst 1x2 unbounded, block rep 0: memory_cap",
            "Backpressure held: every bounded policy kept the queue at or below its capacity")
        self.assertNotIn("did not drain", text)

    def test_sizing(self):
        text = self.findings("sizing")
        self.assertAll(
            text,
            "Service rate mu = consumers / service_s = 4 / 1ms = 4,000 items/s",
            "peak rate lambda = 20,000 items/s",
            "Textbook capacity mu x B = 4,000 x 250ms = 1,000 items.",
            "Queueing prediction (lambda - mu) x B = (20,000 - 4,000) x 250ms = 4,000 items",
            # capacity 3000 had one rep with 0 and one with 1,200 drops: not all reps clean;
            # the interrupted rep at 4000 (50 drops) stays out
            "the smallest capacity whose reps all dropped nothing is 4,000 items",
            "the largest capacity with drops is 3,000 (median 600, max 1,200 dropped)",
            "The textbook rule mu x B (1,000 items) under-sized the queue by 4x (measured "
            "4,000); this disagrees with the claim; at capacity 1,000 the sweep dropped a "
            "median 7,300 items.",
            "The queueing prediction (lambda - mu) x B (4,000 items) agreed with the "
            "measurement",
            "| 2000 | 2 | 4,000 | 3,900 | 4,100 | 33.3% |")

    def test_shutdown(self):
        text = self.findings("shutdown")
        self.assertAll(
            text,
            # medians of the 10 runs per mode (two queues x 5 reps), e.g. close: 18 20 21 22
            # 25 | 28 29 30 31 35 -> (25 + 28) / 2
            "fastest first, median / max over all queues: close 26.5us / 35us (10 runs); "
            "poison 47us / 55us (10 runs); poll:1ms 510us / 900us (10 runs); poll:10ms 5.1ms / "
            "9.9ms (10 runs).",
            "| split_cv | 21us / 25us | 41us / 45us | 500us / 600us | 5ms / 6ms |",
            "poll:1ms: median shutdown 510us = 0.51 of the poll interval, max 900us = 0.9 "
            "intervals.",
            "poll:10ms: median shutdown 5.1ms = 0.51 of the poll interval, max 9.9ms = 0.99 "
            "intervals.",
            "moodycamel+park: fastest mode close (30us), slowest poll:10ms (5.2ms).",
            "No item was lost: lost sums to 0 over all 40 rows.")

    def test_stealing(self):
        text = self.findings("stealing")
        self.assertAll(
            text,
            "### fanout 2, depth 10 (2,047 nodes per root)",
            "ws_pool beat the best central queue, moodycamel+park, by 2x (5.1M/s vs 2.55M/s "
            "nodes); CPU per node 310ns vs 700ns, 390ns less.",
            "ws_pool ran 20,470 nodes per run inline (10% of the nodes).",
            "ws_pool beat the best central queue, moodycamel+park, by 1.5x (3M/s vs 2M/s",
            "ws_pool lost to the best central queue, split_cv: 0.625x its throughput (1M/s vs "
            "1.6M/s nodes); CPU per node 900ns vs 600ns, 300ns more; this disagrees with the "
            "claim.",
            "Nodes per second, most first: split_cv 1.6M/s (600ns CPU per node), "
            "moodycamel+park 1.2M/s",
            "Work stealing won on 2 of 3 tree shapes (fanout 2, depth 10; fanout 8, depth 3) "
            "and lost on 1 (fanout 4, depth 2)")
        self.assertNotIn("check the CSV", text)
        self.assertNotIn("consumed a node count", text)

    def test_mailboxes(self):
        text = self.findings("mailboxes")
        self.assertAll(
            text,
            "keys 1: sharded:split_cv lost to the shared split_cv: 800k/s vs 1.2M/s (0.667x); "
            "CPU per item 800ns vs 500ns; p99 latency 40us vs 20us; with 1 key and 2 "
            "consumers, at most 1 of the 2 mailboxes get work.",
            "keys 16: sharded:split_cv beat the shared split_cv: 2.2M/s vs 1.1M/s (2x)",
            "sharded:split_cv kept per-key order: 0 reorders in all 8 runs.",
            "split_cv (shared, 2 consumers) broke per-key order; median reorders per run: keys "
            "1: 510 (max 520), keys 2: 300 (max 300), keys 16: 42 (max 44), keys 1024: 2 (max "
            "2).",
            "Sharding beat the shared queue at 3 of 4 key counts (keys 2, keys 16, keys 1024) "
            "and lost at 1 (keys 1).")
        self.assertNotIn("FLAG", text)


# ------------------------------------------------------------------------------------------
# Variants: one number of a fixture changed flips a conclusion (in-process, no figures)


class VariantTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="qbench-suite-variant-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def findings(self, suite, change=None, ts_change=None):
        """findings.md text for the suite's fixture after change(header, rows) edits its rows
        in place (and ts_change the burst time series)."""
        rows = read_csv(fixture(suite))
        header, body = rows[0], rows[1:]
        if change:
            change(header, body)
        path = os.path.join(self.tmp, f"{suite}.csv")
        write_csv(path, [header] + body)
        argv = [suite, path, "--out", os.path.join(self.tmp, "out")]
        if suite == "burst":
            ts = read_csv(BURST_TS)
            if ts_change:
                ts = [ts[0]] + ts_change(ts[0], ts[1:])
            ts_path = os.path.join(self.tmp, "ts.csv")
            write_csv(ts_path, ts)
            argv += ["--timeseries", ts_path]
        _suite, _data, text = suite_report.build_findings(suite_report.parse_args(argv))
        return text

    @staticmethod
    def set_where(header, rows, column, value, **where):
        c = header.index(column)
        n = 0
        for r in rows:
            if all(r[header.index(k)] == str(v) for k, v in where.items()):
                r[c] = str(value)
                n += 1
        assert n, f"no row matches {where}"

    def test_idle_no_collapse(self):
        text = self.findings("idle", lambda h, rows: self.set_where(
            h, rows, "throughput_per_s", 9e6, queue="mutex_deque+spin", workload="flood",
            consumers=2))
        self.assertIn("No busy-waiting queue collapsed when oversubscribed at 1x2*: the worst, "
                      "moodycamel+spin, kept 80% of its 1x1 throughput", text)
        self.assertNotIn("collapsed when oversubscribed at 1x2* (below", text)

    def test_idle_condition_variable_cheaper_than_sleep_polling(self):
        text = self.findings("idle", lambda h, rows: self.set_where(
            h, rows, "cpu_cores_busy", 0.0005, queue="split_cv"))
        self.assertIn("Condition variables were not free: the cheapest, split_cv, burned "
                      "0.0005 cores", text)
        self.assertIn("less than the cheapest sleep poller, mutex_deque+sleep:1000", text)
        self.assertNotIn("disagrees", text)

    def test_idle_spinning_no_dearer_than_a_condition_variable_disagrees(self):
        text = self.findings("idle", lambda h, rows: self.set_where(
            h, rows, "cpu_cores_busy", 0.005, queue="mutex_deque+spin", workload="steady"))
        self.assertIn("mutex_deque+spin (spinning) burned 0.005 cores, 0.556x the 0.009 cores of "
                      "split_cv, the cheapest condition-variable queue; this disagrees with the "
                      "claim that busy-waiting burns the CPU", text)
        # sleep:100 still saves 0.005 - 0.004 = 0.001 cores over spinning (20%)
        self.assertIn("mutex_deque+sleep:100 (polls every 100us) burned 0.004 cores, 0.001 cores "
                      "less than mutex_deque+spin (20% saved)", text)

    def test_wakeups_split_cv_without_waste_agrees(self):
        text = self.findings("wakeups", lambda h, rows: self.set_where(
            h, rows, "wasted_wakeups", 0, queue="split_cv"))
        self.assertIn("Agrees with the claim: split_cv wasted no wake-up at flood 4x4*", text)
        self.assertNotIn("Disagrees", text)

    def test_wakeups_without_split_cv_or_stalls(self):
        def change(h, rows):
            rows[:] = [r for r in rows if r[h.index("queue")] != "split_cv"]
            self.set_where(h, rows, "verdict", "ok", verdict="stalled")
            self.set_where(h, rows, "verdict_detail", "", verdict_detail=rows[-1][
                h.index("verdict_detail")])
        text = self.findings("wakeups", change)
        self.assertNotIn("split_cv", text)
        self.assertNotIn("stalled in", text)
        self.assertIn("mutex_cv_one did not stall in any of its 3 reps at flood 4x4*", text)

    def test_burst_did_not_drain(self):
        unbounded = read_csv(fixture("burst"))
        h = unbounded[0]
        run = next(r[h.index("run_id")] for r in unbounded[1:]
                   if r[h.index("capacity")] == "unbounded" and r[h.index("verdict")] == "ok")

        def cut(th, ts):  # the unbounded run's series ends at 1 s, depth still 650
            t, rid = th.index("t_s"), th.index("run_id")
            return [r for r in ts if r[rid] != run or float(r[t]) <= 1.0]
        text = self.findings("burst", ts_change=cut)
        self.assertIn("unbounded, block, burst 50ms (1 rep): p99 latency 20ms during the burst "
                      "and 60ms after it; did not drain", text)

    def test_sizing_over_sized_prediction(self):
        # service 4 ms: mu = 1,000/s, textbook 250 (under-sized 16x), queueing
        # (20,000 - 1,000) x 0.25 = 4,750 > 4,000 measured: over-sized by 1.19x
        text = self.findings("sizing", lambda h, rows: self.set_where(
            h, rows, "service_s", 0.004, service_s=0.001))
        self.assertIn("Textbook capacity mu x B = 1,000 x 250ms = 250 items.", text)
        self.assertIn("under-sized the queue by 16x (measured 4,000)", text)
        self.assertIn("The queueing prediction (lambda - mu) x B (4,750 items) over-sized the "
                      "queue by 1.19x (measured 4,000)", text)

    def test_shutdown_lost_items_are_named(self):
        def change(h, rows):
            rows[7][h.index("lost")] = "3"
        text = self.findings("shutdown", change)
        self.assertIn("Items were lost (lost must be 0): 3 in total, in 1 row: moodycamel+park "
                      "steady 1x2 close rep 2: ok, lost 3.", text)
        self.assertNotIn("No item was lost", text)

    def test_stealing_without_ws_pool(self):
        text = self.findings("stealing", lambda h, rows: rows.__setitem__(
            slice(None), [r for r in rows if r[h.index("queue")] != "ws_pool"]))
        self.assertIn("No work-stealing queue ended ok at fanout 2, depth 10", text)
        self.assertNotIn("Work stealing won", text)

    def test_mailboxes_sharded_reorder_is_flagged(self):
        text = self.findings("mailboxes", lambda h, rows: self.set_where(
            h, rows, "key_reorders", 5, queue="sharded:split_cv", keys=16, rep=1))
        self.assertIn("FLAG: sharded:split_cv broke per-key order although it must not (must be "
                      "0): keys 16 rep 1: 5 reorders.", text)


# ------------------------------------------------------------------------------------------
# Bad input: exit code 2, one line on stderr, nothing written


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="qbench-suite-bad-")
        self.tmp = self._tmp.name
        self.out = os.path.join(self.tmp, "out")

    def tearDown(self):
        self._tmp.cleanup()

    def run_script(self, *args):
        return subprocess.run([PYTHON, SCRIPT, *args], capture_output=True, text=True,
                              timeout=TIMEOUT_S)

    def assertCleanError(self, proc, *needles):
        self.assertEqual(proc.returncode, 2, f"stdout={proc.stdout!r} stderr={proc.stderr!r}")
        self.assertNotIn("Traceback", proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got: {proc.stderr!r}")
        for needle in needles:
            self.assertIn(needle, lines[0])
        self.assertEqual(proc.stdout, "")
        self.assertFalse(os.path.exists(self.out), "output written despite the error")

    def without_column(self, suite, column):
        rows = read_csv(fixture(suite))
        i = rows[0].index(column)
        path = os.path.join(self.tmp, f"no_{column}.csv")
        write_csv(path, [r[:i] + r[i + 1:] for r in rows])
        return path

    def test_missing_file(self):
        missing = os.path.join(self.tmp, "nope.csv")
        self.assertCleanError(self.run_script("idle", missing, "--out", self.out), missing,
                              "no such file")

    def test_missing_columns(self):
        for suite, column in (("mailboxes", "key_reorders"), ("stealing", "nodes_per_root"),
                              ("shutdown", "shutdown_s"), ("idle", "latency_p99_ns")):
            with self.subTest(column=column):
                path = self.without_column(suite, column)
                self.assertCleanError(self.run_script(suite, path, "--out", self.out), path,
                                      column, "missing")

    def test_unknown_suite(self):
        self.assertCleanError(self.run_script("nosuch", fixture("idle"), "--out", self.out),
                              "unknown suite", "nosuch", "idle")

    def test_no_rows(self):
        header_only = os.path.join(self.tmp, "header.csv")
        write_csv(header_only, read_csv(fixture("idle"))[:1])
        self.assertCleanError(self.run_script("idle", header_only, "--out", self.out),
                              header_only, "no rows")
        rows = read_csv(fixture("idle"))
        warmup = os.path.join(self.tmp, "warmup.csv")
        write_csv(warmup, [rows[0]] + [r for r in rows[1:] if r[rows[0].index("rep")] == "-1"])
        self.assertCleanError(self.run_script("idle", warmup, "--out", self.out), warmup,
                              "warm-up")

    def test_rows_of_another_suite(self):
        self.assertCleanError(self.run_script("stealing", fixture("idle"), "--out", self.out),
                              "no rows of workload tree")

    def test_burst_needs_its_time_series(self):
        self.assertCleanError(self.run_script("burst", fixture("burst"), "--out", self.out),
                              "--timeseries")
        self.assertCleanError(self.run_script("burst", fixture("burst"), "--out", self.out,
                                              "--timeseries", fixture("burst")),
                              "not a time-series file")

    def test_bad_options(self):
        self.assertCleanError(self.run_script("idle", fixture("idle"), "--out", self.out,
                                              "--no-such-option"), "--no-such-option")
        self.assertCleanError(self.run_script("idle", fixture("idle")), "--out")
        self.assertCleanError(self.run_script(), "required")


# ------------------------------------------------------------------------------------------
# End to end: `qbench suite` runs a (tiny) suite file and this script writes its report


@unittest.skipUnless(os.environ.get("QBENCH_BIN"), "QBENCH_BIN not set (CTest sets it)")
class QbenchSuiteEndToEndTest(unittest.TestCase):
    def test_a_tiny_shutdown_suite_writes_csv_findings_and_figures(self):
        with tempfile.TemporaryDirectory(prefix="qbench-suite-e2e-") as tmp:
            suites = os.path.join(tmp, "suites")
            os.mkdir(suites)
            with open(os.path.join(suites, "shutdown.suite"), "w") as f:
                f.write("title: tiny shutdown\nclaim: shutdown loses nothing\n"
                        "run: -q split_cv -w steady --rate 20k -c 2 "
                        "--shutdown close,poison,poll:1ms -d 100ms --reps 2\n")
            out = os.path.join(tmp, "out")
            env = dict(os.environ, QBENCH_SCRIPTS=SCRIPTS)
            proc = subprocess.run([os.environ["QBENCH_BIN"], "suite", "shutdown", "--suites-dir",
                                   suites, "--out", out, "--quiet"], capture_output=True,
                                  text=True, timeout=TIMEOUT_S, env=env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            with open(os.path.join(out, "results.csv")) as f:
                self.assertEqual(len(list(csv.DictReader(f))), 6)
            with open(os.path.join(out, "findings.md")) as f:
                findings = f.read()
            self.assertIn("tiny shutdown", findings)
            for mode in ("close", "poison", "poll:1ms"):
                self.assertIn(mode, findings)
            self.assertIn("qbench suite shutdown", findings)  # the command is recorded
            png = os.path.join(out, "figures", "shutdown_latency.png")
            if suite_report_has_matplotlib():
                with open(png, "rb") as f:
                    self.assertEqual(f.read(8), PNG_SIGNATURE)


class EmbedFindingsTest(unittest.TestCase):
    """scripts/embed_findings.py copies each run's Findings section into the document."""

    def test_blocks_are_replaced_and_prose_kept(self):
        with tempfile.TemporaryDirectory(prefix="qbench-embed-") as tmp:
            os.makedirs(os.path.join(tmp, "runs", "idle"))
            with open(os.path.join(tmp, "runs", "idle", "findings.md"), "w") as f:
                f.write("# Suite idle\n\n## Claim\n\n> c\n\n## Findings\n\n### Part\n\n"
                        "- measured 42\n\n## Figures\n\n![x](x.png)\n")
            doc = os.path.join(tmp, "doc.md")
            with open(doc, "w") as f:
                f.write("intro\n<!-- findings:idle -->\nold\n<!-- /findings:idle -->\noutro\n")
            args = [PYTHON, os.path.join(SCRIPTS, "embed_findings.py"), doc, "--runs",
                    os.path.join(tmp, "runs")]
            proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(doc) as f:
                text = f.read()
            self.assertEqual(text, "intro\n<!-- findings:idle -->\n#### Part\n\n- measured 42\n"
                                   "<!-- /findings:idle -->\noutro\n")
            os.remove(os.path.join(tmp, "runs", "idle", "findings.md"))
            proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
            self.assertEqual(proc.returncode, 2)
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)


def suite_report_has_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    unittest.main()
