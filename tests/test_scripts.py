#!/usr/bin/python3
"""Tests of scripts/plot.py, scripts/report.py and scripts/qbcsv.py.

    /usr/bin/python3 tests/test_scripts.py
    /usr/bin/python3 -m unittest discover -s tests -p 'test_scripts.py'

The end-to-end test runs the qbench binary named by the environment variable QBENCH_BIN for a
short real run (skipped when QBENCH_BIN is unset); the other tests use the hand-made CSV files in
tests/fixtures/. Figure tests need python3-matplotlib and are skipped without it. Paths are
relative to this file, so the tests run from any directory (CTest runs them from the build
directory).
"""

import base64
import csv
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPTS = os.path.join(ROOT, "scripts")
FIXTURES = os.path.join(HERE, "fixtures")
SMALL = os.path.join(FIXTURES, "results_small.csv")
OTHER_COMMIT = os.path.join(FIXTURES, "results_other_commit.csv")
SANITIZER = os.path.join(FIXTURES, "results_sanitizer.csv")

# Debian's interpreter has Debian's matplotlib; another python3 first on PATH may not.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SCRIPT_TIMEOUT_S = 300

sys.path.insert(0, SCRIPTS)
import qbcsv  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _has_matplotlib():
    probe = subprocess.run([PYTHON, "-c", "import matplotlib"], capture_output=True)
    return probe.returncode == 0


HAS_MATPLOTLIB = _has_matplotlib()
NEEDS_MATPLOTLIB = unittest.skipUnless(
    HAS_MATPLOTLIB, f"python3-matplotlib is not installed for {PYTHON} "
                    f"(scripts/deps.sh --plots installs it)")


def run_script(name, *args):
    return subprocess.run([PYTHON, os.path.join(SCRIPTS, name), *args], capture_output=True,
                          text=True, timeout=SCRIPT_TIMEOUT_S)


def png_size(path):
    """(width, height) from the IHDR chunk; fails the caller's assertion on a bad PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE):
        raise AssertionError(f"{path}: not a PNG file (bad signature)")
    length, chunk = struct.unpack(">I4s", head[8:16])
    if chunk != b"IHDR" or length != 13:
        raise AssertionError(f"{path}: the first PNG chunk is not IHDR")
    return struct.unpack(">II", head[16:24])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


class Checks:
    """Assertions shared by the test classes (mixed into unittest.TestCase)."""

    def assertPng(self, path):
        """The PNG exists, is non-empty, has a valid IHDR and decodes."""
        self.assertTrue(os.path.isfile(path), f"{path} was not written")
        self.assertGreater(os.path.getsize(path), 0, f"{path} is empty")
        width, height = png_size(path)
        self.assertGreater(width, 0)
        self.assertGreater(height, 0)
        try:
            import matplotlib.image
        except ImportError:  # this interpreter lacks matplotlib: signature and IHDR suffice
            return
        pixels = matplotlib.image.imread(path)
        self.assertEqual(pixels.shape[:2], (height, width), path)

    def assertCleanError(self, proc, *needles):
        """Exit code 2, one line on stderr that contains every needle, no traceback."""
        self.assertEqual(proc.returncode, 2, f"stdout={proc.stdout!r} stderr={proc.stderr!r}")
        self.assertNotIn("Traceback", proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got: {proc.stderr!r}")
        for needle in needles:
            self.assertIn(needle, lines[0])
        self.assertEqual(proc.stdout, "")

    @staticmethod
    def printed_paths(proc):
        return [line for line in proc.stdout.splitlines() if line.strip()]


class ScriptTestCase(Checks, unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="qbench-scripts-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)


# ------------------------------------------------------------------------------------------
# (c) aggregation on the hand-made fixtures, whose medians are known


class AggregationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rows = qbcsv.load_results([SMALL, OTHER_COMMIT])
        cls.rows, cls.sanitizer_rows = qbcsv.split_rows(rows)
        cls.groups = qbcsv.aggregate(cls.rows)

    def group(self, sha, queue, workload, shape):
        found = [g for g in self.groups if g.context[1] == sha and g.queue == queue
                 and g.workload == workload and g.shape == shape]
        self.assertEqual(len(found), 1, f"{sha} {queue} {workload} {shape}")
        return found[0]

    def test_median_min_max_of_ok_reps(self):
        g = self.group("aaa1111", "q_one", "steady", (1, 1))
        # reps 1000, 3000, 2000 are ok; the stalled rep (5/s) is counted but not aggregated
        self.assertEqual(g.stat("throughput_per_s"), qbcsv.Stat(2000, 1000, 3000, 3))
        self.assertEqual(g.verdicts, {"ok": 3, "stalled": 1})
        self.assertEqual(g.verdict_text(), "3 ok, 1 stalled")
        self.assertEqual(g.median("latency_p50_ns"), 20000)
        self.assertEqual(g.median("latency_max_ns"), 20000 * 32)
        self.assertEqual(g.median("cpu_ns_per_item"), 4000)
        self.assertAlmostEqual(g.median("cpu_cores_busy"), 0.40)
        self.assertEqual(g.median("wakeups_per_item"), 0.6)  # 6000 / 10000 consumed
        self.assertEqual(g.median("wasted_wakeups_per_item"), 0.02)
        self.assertFalse(g.oversubscribed)

    def test_even_count_median_is_the_mean_of_the_middle_two(self):
        g = self.group("aaa1111", "q_two", "steady", (1, 1))
        self.assertEqual(g.stat("throughput_per_s"), qbcsv.Stat(5000, 4000, 6000, 2))
        self.assertEqual(g.median("latency_p99_ns"), 240000)  # (200000 + 280000) / 2
        self.assertIsNone(g.stat("wakeups_per_item"))  # q_two does not count wake-ups

    def test_contexts_are_not_mixed(self):
        other = self.group("bbb2222", "q_one", "steady", (1, 1))
        self.assertEqual(other.stat("throughput_per_s"), qbcsv.Stat(8000, 7000, 9000, 2))
        contexts = {g.context for g in self.groups}
        self.assertEqual(len(contexts), 2)

    def test_oversubscribed_and_refused(self):
        self.assertTrue(self.group("aaa1111", "q_one", "steady", (2, 2)).oversubscribed)
        burst = self.group("aaa1111", "q_one", "burst", (1, 1))
        self.assertEqual(burst.median("refused"), 7)

    def test_non_ok_rows_form_their_own_group_when_included(self):
        groups = qbcsv.aggregate(self.rows, include_non_ok=True)
        tagged = [g for g in groups if g.tag]
        self.assertEqual(len(tagged), 1)
        self.assertEqual(tagged[0].tag, "stalled")
        self.assertEqual(tagged[0].stat("throughput_per_s").n, 1)
        plain = [g for g in groups if g.queue == "q_one" and g.workload == "steady"
                 and g.shape == (1, 1) and g.context[1] == "aaa1111" and not g.tag][0]
        self.assertEqual(plain.stat("throughput_per_s"), qbcsv.Stat(2000, 1000, 3000, 3))

    def test_sanitizer_rows_are_split_off(self):
        rows, refused = qbcsv.split_rows(qbcsv.load_results([SMALL, SANITIZER]))
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0]["sanitizer"], "thread")
        self.assertTrue(all(r["sanitizer"] == "" for r in rows))

    def test_shape_order_is_total_threads_then_producers(self):
        shapes = [(2, 2), (2, 1), (1, 1), (1, 2), (4, 1), (1, 4)]
        self.assertEqual(sorted(shapes, key=qbcsv.shape_sort_key),
                         [(1, 1), (1, 2), (2, 1), (2, 2), (1, 4), (4, 1)])

    def test_formatting(self):
        self.assertEqual(qbcsv.si(95000), "95k")
        self.assertEqual(qbcsv.si(1500000), "1.5M")
        self.assertEqual(qbcsv.duration_ns(51500), "51.5us")
        self.assertEqual(qbcsv.duration_ns(3880000), "3.88ms")
        self.assertEqual(qbcsv.duration_s("0.05"), "50ms")
        self.assertEqual(qbcsv.byte_size(8 * 2**20), "8MiB")

    def test_repeated_header_of_concatenated_files_is_skipped(self):
        with tempfile.TemporaryDirectory() as tmp:
            joined = os.path.join(tmp, "joined.csv")
            small, other = read_csv(SMALL), read_csv(OTHER_COMMIT)
            write_csv(joined, small + other)  # `cat a.csv b.csv`
            rows = qbcsv.load_results([joined])
            self.assertEqual(len(rows), len(small) - 1 + len(other) - 1)


# ------------------------------------------------------------------------------------------
# (b) bad input: exit code 2, one line naming the file and the problem, no traceback


class ColumnRolesTest(unittest.TestCase):
    """qbcsv takes the columns, their roles, types and units from scripts/columns.json (the
    output of `qbench columns --json`, which columns_test checks against qbench)."""

    def setUp(self):
        with open(os.path.join(SCRIPTS, "columns.json"), encoding="utf-8") as f:
            self.table = json.load(f)
        self.results = self.table["results"]["columns"]
        self.names = [c["name"] for c in self.results]

    def test_lists_derive_from_the_table(self):
        keys = [c["name"] for c in self.results if c["role"] == "key"]
        self.assertEqual(list(qbcsv.KEY_COLUMNS), keys)
        self.assertEqual(list(qbcsv.VARIANT_COLUMNS),
                         [k for k in keys if k not in qbcsv.SHAPE_COLUMNS])
        for tree_or_later in ("fanout", "tree_depth", "nodes_per_root", "keys",
                              "latency_recording", "pinning"):
            self.assertIn(tree_or_later, qbcsv.VARIANT_COLUMNS)
        self.assertEqual(list(qbcsv.RESULT_NUMERIC),
                         [c["name"] for c in self.results if c["type"] == "number"])
        self.assertEqual(list(qbcsv.RESULT_COLUMNS),
                         [c["name"] for c in self.results if not c["appended"]])
        self.assertEqual(qbcsv.RESULT_COLUMNS[-1], "peak_depth")  # v1 as first released
        ts = self.table["timeseries"]["columns"]
        self.assertEqual(list(qbcsv.TIMESERIES_COLUMNS), [c["name"] for c in ts])
        self.assertEqual(qbcsv.SCHEMA_VERSION, str(self.table["results"]["schema_version"]))

    def test_the_scripts_own_names_are_columns_of_the_table(self):
        # What the scripts choose (grouping, checks, short labels) must name real columns.
        for column in (qbcsv.SHAPE_COLUMNS + qbcsv.RESULT_NONBLANK + qbcsv.CONTEXT_COLUMNS):
            self.assertIn(column, self.names)
        ts = [c["name"] for c in self.table["timeseries"]["columns"]]
        for column in qbcsv.TIMESERIES_NONBLANK:
            self.assertIn(column, ts)
        for column in qbcsv.VARIANT_NAMES:
            self.assertIn(column, qbcsv.VARIANT_COLUMNS)
        for k in qbcsv.SHAPE_COLUMNS:
            self.assertIn(k, qbcsv.KEY_COLUMNS)

    def test_the_report_judges_a_question_as_qbench_does(self):
        # results/ranking.hpp, through the "ranking" of columns.json: each workload's figure,
        # its direction from its column's `better`, and the noise thresholds.
        import report
        ranking = self.table["ranking"]
        self.assertEqual(set(ranking["by_workload"]),
                         {"steady", "burst", "flood", "tree", "pingpong"})
        for workload, by in ranking["by_workload"].items():
            with self.subTest(workload=workload):
                column, higher, title, fmt = report._primary(workload)
                self.assertEqual((column, title), (by["column"], by["title"]))
                self.assertIn(column, self.names)
                self.assertEqual(higher, column == "throughput_per_s")
        self.assertEqual(report._primary("pingpong")[0], "latency_p50_ns")

        class Group:  # a configuration whose throughput ranges over 30% of its median
            def __init__(self, workload):
                self.workload = workload

            def stat(self, column):
                return qbcsv.Stat(100.0, 80.0, 110.0, 3) if column == "throughput_per_s" else None

        spread = 30 / 100
        self.assertGreater(spread, ranking["noisy_throughput_range"])
        self.assertTrue(report._noisy(Group("flood")))  # ranked by throughput: noisy
        self.assertFalse(report._noisy(Group("steady")))  # ranked by p99: its throughput is not

    def test_rows_differing_in_any_key_are_never_aggregated_together(self):
        base = qbcsv.load_results([SMALL])[0]
        for column in qbcsv.VARIANT_COLUMNS:
            with self.subTest(column=column):
                other = dict(base, _raw=dict(base["_raw"]))
                other["_raw"][column] = base["_raw"].get(column, "") + "7"
                groups = qbcsv.aggregate([base, other])
                self.assertEqual(len(groups), 2)

    def test_values_are_written_by_their_unit(self):
        self.assertEqual(qbcsv.variant_value_text("rate_per_s", "100000"), "100k/s")

    def test_a_schema_v1_file_is_read_under_the_v2_names(self):
        # The fixtures were written by a qbench of schema v1 (rate, peak_rate, depth).
        with open(SMALL, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
        self.assertIn("rate", header)
        self.assertNotIn("rate_per_s", header)
        rows = qbcsv.load_results([SMALL])
        self.assertTrue(all(r["schema_version"] == float(qbcsv.SCHEMA_VERSION) for r in rows))
        self.assertTrue(all("rate_per_s" in r and "rate" not in r for r in rows))
        self.assertEqual(qbcsv.V1_NAMES["results"],
                         {"rate": "rate_per_s", "peak_rate": "peak_rate_per_s",
                          "depth": "tree_depth"})
        self.assertEqual(qbcsv.V1_NAMES["time-series"], {"depth": "queue_depth"})
        self.assertEqual(qbcsv.variant_value_text("poll_interval_s", "0.001"), "1ms")
        self.assertEqual(qbcsv.variant_value_text("keys", "16"), "16")
        self.assertEqual(qbcsv.variant_value_text("fanout", ""), "-")
        self.assertEqual(qbcsv.variant_name("capacity"), "cap")
        self.assertEqual(qbcsv.variant_name("fanout"), "fanout")

    def test_older_files_read_the_appended_columns_blank(self):
        row = qbcsv.load_results([SMALL])[0]  # written before latency_recording existed
        self.assertNotIn("latency_recording", row["_raw"])
        self.assertEqual(row["latency_recording"], "")
        self.assertIsNone(row["floor_rtt_p50_ns"])


class BadInputTest(ScriptTestCase):
    def scripts(self):
        """(name, output argument) of both scripts."""
        return (("plot.py", ["--out", self.path("figs")]),
                ("report.py", ["--out", self.path("report.html")]))

    def without_column(self, column):
        rows = read_csv(SMALL)
        i = rows[0].index(column)
        path = self.path(f"no_{column}.csv")
        write_csv(path, [r[:i] + r[i + 1:] for r in rows])
        return path

    def test_missing_column(self):
        path = self.without_column("latency_p99_ns")
        for script, out in self.scripts():
            with self.subTest(script=script):
                proc = run_script(script, path, *out)
                self.assertCleanError(proc, path, "latency_p99_ns", "missing")
                self.assertFalse(os.path.exists(self.path("figs")))
                self.assertFalse(os.path.exists(self.path("report.html")))

    def test_foreign_schema(self):
        path = self.path("foreign.csv")
        with open(path, "w") as f:
            f.write("a,b,c\n1,2,3\n")
        for script, out in self.scripts():
            with self.subTest(script=script):
                self.assertCleanError(run_script(script, path, *out), path, "schema_version")

    def test_other_schema_version(self):
        rows = read_csv(SMALL)
        for r in rows[1:]:
            r[0] = "2"
        path = self.path("v2.csv")
        write_csv(path, rows)
        for script, out in self.scripts():
            with self.subTest(script=script):
                self.assertCleanError(run_script(script, path, *out), path, "schema_version")

    def test_empty_file_and_header_only(self):
        empty = self.path("empty.csv")
        open(empty, "w").close()
        header_only = self.path("header.csv")
        write_csv(header_only, read_csv(SMALL)[:1])
        for script, out in self.scripts():
            with self.subTest(script=script):
                self.assertCleanError(run_script(script, empty, *out), empty, "empty")
                self.assertCleanError(run_script(script, header_only, *out), header_only,
                                      "no rows")

    def test_no_ok_rows(self):
        rows = read_csv(SMALL)
        v = rows[0].index("verdict")
        path = self.path("stalled.csv")
        write_csv(path, [rows[0]] + [r[:v] + ["stalled"] + r[v + 1:] for r in rows[1:]])
        for script, out in self.scripts():
            with self.subTest(script=script):
                self.assertCleanError(run_script(script, path, *out), "no rows with verdict ok")

    def test_sanitizer_build_refused(self):
        for script, out in self.scripts():
            with self.subTest(script=script):
                proc = run_script(script, SANITIZER, *out)
                self.assertCleanError(proc, "sanitizer", "thread", "not results")

    def test_missing_file_bad_number_ragged_row(self):
        missing = self.path("nope.csv")
        rows = read_csv(SMALL)
        t = rows[0].index("throughput_per_s")
        rows[2][t] = "fast"
        bad_number = self.path("bad_number.csv")
        write_csv(bad_number, rows)
        ragged = self.path("ragged.csv")
        write_csv(ragged, read_csv(SMALL)[:2] + [read_csv(SMALL)[2][:10]])
        for script, out in self.scripts():
            with self.subTest(script=script):
                self.assertCleanError(run_script(script, missing, *out), missing, "no such file")
                self.assertCleanError(run_script(script, bad_number, *out), bad_number,
                                      "line 3", "throughput_per_s", "fast")
                self.assertCleanError(run_script(script, ragged, *out), ragged, "line 3",
                                      "fields")

    def test_time_series_given_as_results(self):
        ts = self.path("ts.csv")
        write_csv(ts, [["schema_version", "run_id", "git_sha", "host", "queue", "workload",
                        "producers", "consumers", "capacity", "backpressure", "rep", "t_s",
                        "depth", "rss_bytes", "consumed", "accepted", "refused", "in_burst",
                        "latency_mean_ns", "latency_p99_ns", "latency_max_ns"]])
        for script, out in self.scripts():
            with self.subTest(script=script):
                self.assertCleanError(run_script(script, ts, *out), ts, "--timeseries")
                self.assertCleanError(run_script(script, SMALL, "--timeseries", SMALL, *out),
                                      SMALL, "not a time-series file")

    def test_bad_options(self):
        for script, out in self.scripts():
            with self.subTest(script=script):
                proc = run_script(script, SMALL, "--no-such-option", *out)
                self.assertEqual(proc.returncode, 2)
                self.assertIn("--no-such-option", proc.stderr)
                self.assertNotIn("Traceback", proc.stderr)
                proc = run_script(script, SMALL)  # --out is required
                self.assertEqual(proc.returncode, 2)
                self.assertIn("--out", proc.stderr)
                self.assertCleanError(run_script(script, SMALL, "--ts-rep", "0", *out),
                                      "--timeseries")


# ------------------------------------------------------------------------------------------
# Figures and report from the fixtures


@NEEDS_MATPLOTLIB
class FixtureFiguresTest(ScriptTestCase):
    EXPECTED = {"throughput_steady.png", "throughput_burst.png", "latency_steady_1x1.png",
                "latency_steady_2x2.png", "latency_burst_1x1.png", "cpu_steady.png",
                "cpu_burst.png", "wakeups_steady.png", "wakeups_burst.png"}

    def test_plot_writes_every_figure_and_lists_excluded_rows(self):
        out = self.path("figs")
        proc = run_script("plot.py", SMALL, OTHER_COMMIT, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        paths = self.printed_paths(proc)
        self.assertEqual({os.path.basename(p) for p in paths}, self.EXPECTED)
        self.assertEqual(len(paths), len(self.EXPECTED))
        for p in paths:
            self.assertEqual(os.path.dirname(p), out)
            self.assertPng(p)
        # the stalled repetition is excluded, and said so with its file and line
        self.assertIn("warning", proc.stderr)
        self.assertIn(f"{SMALL}:5: q_one steady 1x1 rep 3: stalled", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)

    def test_sanitizer_rows_mixed_with_results_are_refused_not_plotted(self):
        proc = run_script("report.py", SMALL, SANITIZER, "--out", self.path("r.html"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("sanitizer build (thread)", proc.stderr)
        with open(self.path("r.html"), encoding="utf-8") as f:
            page = f.read()
        # the sanitizer row's throughput (500/s) must not enter the median of q_one 1x1
        row = self.summary_row(page, "q_one", "steady", "1x1")
        self.assertIn('data-v="2000"', row)

    def test_report_table_medians_and_contexts(self):
        out = self.path("report.html")
        proc = run_script("report.py", SMALL, OTHER_COMMIT, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip(), out)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        self.assertEqual(page.count("data:image/png;base64,"), len(self.EXPECTED))
        # two commits: lines and table rows are labelled with the commit
        a = self.summary_row(page, "q_one @ aaa1111", "steady", "1x1")
        self.assertIn('data-v="2000"', a)  # median throughput
        self.assertIn("3 ok, 1 stalled", a)
        self.assertIn('class="bad"', a)
        b = self.summary_row(page, "q_one @ bbb2222", "steady", "1x1")
        self.assertIn('data-v="8000"', b)
        self.assertIn("2x2*", page)
        for field in ("aaa1111", "bbb2222", "GNU 12.2.0", "Release", "Linux 6.1.0",
                      "2026-01-02T03:04:05Z", "Test CPU @ 2.0GHz"):
            self.assertIn(field, page)

    def test_include_non_ok_plots_them_apart(self):
        out = self.path("report.html")
        proc = run_script("report.py", SMALL, "--include-non-ok", "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        self.assertIn("q_one (stalled!)", page)
        self.assertIn('data-v="2000"', self.summary_row(page, "q_one", "steady", "1x1"))

    @staticmethod
    def summary_row(page, label, workload, shape):
        for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
            if (row.startswith(f"<td>{label}</td><td>{workload}</td>")
                    and f">{shape}</td>" in row):
                return row
        raise AssertionError(f"no summary row for {label} {workload} {shape}")


# ------------------------------------------------------------------------------------------
# (a) end to end: a short real run of the qbench binary


QBENCH_BIN = os.environ.get("QBENCH_BIN", "")


class TargetsTest(unittest.TestCase):
    """scripts/targets.py: the issue-7 target table, computed from medians of a CSV."""

    COLUMNS = ["queue", "workload", "verdict", "rep", "throughput_per_s", "latency_p50_ns",
               "latency_recording", "floor_rtt_p50_ns", "pinning", "producers", "consumers"]

    def rows(self, spsc_thr=10e6, mpmc_pp=300.0):
        # (queue, flood on, flood off, pingpong p50), three reps each, the middle rep the median.
        table = [("ring_spsc+spin", spsc_thr, spsc_thr * 1.05, 250.0),
                 ("boost_spsc+spin", 8e6, 8.2e6, 260.0),
                 ("atomic_queue_spsc+spin", 9e6, 9.1e6, 255.0),
                 ("ring_mpmc+spin", 12e6, 14e6, mpmc_pp),
                 ("boost_lockfree+spin", 3e6, 3.1e6, 320.0),
                 ("moodycamel+spin", 6e6, 6.1e6, 310.0),
                 ("tbb_bounded", 4e6, 4.1e6, 900.0),
                 ("atomic_queue+spin", 12.5e6, 13e6, 290.0)]
        out = []
        for q, on, off, pp in table:
            for rep, f in enumerate((0.5, 1.0, 2.0)):
                base = {"queue": q, "verdict": "ok", "rep": str(rep), "floor_rtt_p50_ns": "240",
                        "pinning": "p0:0 c0:1", "producers": "1", "consumers": "1"}
                out.append(dict(base, workload="flood", latency_recording="on",
                                throughput_per_s=str(on * f), latency_p50_ns="1000"))
                out.append(dict(base, workload="flood", latency_recording="off",
                                throughput_per_s=str(off * f), latency_p50_ns=""))
                out.append(dict(base, workload="pingpong", latency_recording="on",
                                throughput_per_s="1", latency_p50_ns=str(pp * f)))
        out.append(dict(out[0], verdict="failed", throughput_per_s="1e12"))  # never counted
        return out

    def run_targets(self, rows):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r.csv")
            with open(path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=self.COLUMNS)
                w.writeheader()
                w.writerows(rows)
            p = subprocess.run([PYTHON, os.path.join(SCRIPTS, "targets.py"), path,
                                "--out", os.path.join(d, "t.md")], capture_output=True,
                               text=True, timeout=SCRIPT_TIMEOUT_S)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(d, "t.md")) as f:
                self.assertEqual(f.read(), p.stdout)
            return p.stdout

    def test_every_target_met_with_its_numbers(self):
        text = self.run_targets(self.rows())
        self.assertIn("Medians of 3 repetitions", text)
        self.assertIn("| ring_spsc+spin | 10.00M/s | 10.50M/s | 4.8% | 250 ns |", text)
        self.assertIn("ring_spsc+spin 10.00M/s / boost_spsc+spin 8.00M/s = 1.25x", text)
        self.assertIn("ring_mpmc+spin 12.00M/s / atomic_queue+spin 12.50M/s = 0.96x "
                      "(target >= 0.9x) | met", text)
        self.assertIn("ring_spsc+spin 250 ns / floor 240 ns = 1.04x", text)
        self.assertIn("worst: ring_mpmc+spin 14.3% | **missed**", text)
        self.assertIn("12 of 13 targets met.", text)

    def test_a_slower_ring_misses_and_says_by_how_much(self):
        text = self.run_targets(self.rows(spsc_thr=7e6, mpmc_pp=400.0))
        self.assertIn("ring_spsc+spin 7.00M/s / boost_spsc+spin 8.00M/s = 0.88x "
                      "(target >= 1x) | **missed**", text)
        self.assertIn("ring_mpmc+spin 400 ns / atomic_queue+spin 290 ns = 1.38x "
                      "(target <= 1.1x) | **missed**", text)

    def test_calibrated_rows_give_fidelity_targets_and_bare_must_agree(self):
        rows = self.rows()
        for r in rows:
            flood = r["workload"] == "flood"
            thr = float(r["throughput_per_s"])
            # boost_spsc's bare flood is 3x ring_spsc's harness figure: the ring's lead over it
            # is the harness's doing, so that claim must not hold. ring_mpmc keeps 0.8 of bare.
            bare = {"boost_spsc+spin": 30e6, "ring_mpmc+spin": thr / 0.8}.get(r["queue"], thr)
            if flood:
                r.update(bare_items_per_s=str(bare), bare_rtt_p50_ns="",
                         fidelity=str(thr / bare), clock_cost_ns="25",
                         # ring_spsc ran full, its references empty: the regime column says so.
                         median_depth="65000" if r["queue"] == "ring_spsc+spin" else "12",
                         bare_median_depth="900")
            else:
                p50 = float(r["latency_p50_ns"])
                # pingpong: ring_spsc 40% over its bare round trip + clock, the others within.
                b = p50 / 1.4 - 25 if r["queue"] == "ring_spsc+spin" else p50 - 25
                r.update(bare_items_per_s="", bare_rtt_p50_ns=str(b), fidelity=str(b / p50),
                         clock_cost_ns="25", median_depth="1", bare_median_depth="")
        self.COLUMNS = TargetsTest.COLUMNS + ["bare_items_per_s", "bare_rtt_p50_ns", "fidelity",
                                              "clock_cost_ns", "median_depth", "bare_median_depth"]
        text = self.run_targets(rows)
        self.assertIn("ring_spsc+spin 10.00M/s / boost_spsc+spin 8.00M/s = 1.25x (target >= 1x); "
                      "bare 10.00M/s / 30.00M/s = 0.33x | **missed**", text)
        self.assertIn("| ring_mpmc+spin flood, latency off: qbench / bare >= 0.90 | 0.80 | "
                      "**missed** |", text)
        self.assertIn("| moodycamel+spin flood, latency on: qbench / bare >= 0.85 | 1.00 | met |",
                      text)
        self.assertIn("ring_spsc+spin pingpong p50 <= (bare + clock read) x 1.1 | 250 ns against "
                      "196 ns (bare 154 ns, clock 25 ns): +40% | **missed**", text)
        self.assertRegex(text, r"\n\d+ of \d+ fidelity targets met\.\n")
        fidelity = text[text.index("Fidelity (`--calibrate`)"):]
        ring = [line for line in fidelity.splitlines() if line.startswith("| ring_spsc+spin | ")]
        self.assertEqual(len(ring), 1, fidelity)
        self.assertIn(" | 65.0k / 65.0k / 900 | ", ring[0])

    def test_median_interval_is_the_order_statistics_with_the_binomial_coverage(self):
        import targets
        self.assertIsNone(targets.median_interval([1.0, 2.0, 3.0, 4.0, 5.0]))  # 2 x 1/32 > 5%
        self.assertEqual(targets.median_interval([6.0, 1.0, 5.0, 2.0, 4.0, 3.0]), (1.0, 6.0))
        ten = [float(x) for x in range(10, 0, -1)]
        self.assertEqual(targets.median_interval(ten), (2.0, 9.0))  # 1 - 2 x 11/1024
        self.assertEqual(targets.median_interval([float(x) for x in range(1, 21)]), (6.0, 15.0))
        self.assertEqual(targets.median_interval(ten, level=0.8), (3.0, 8.0))  # 1 - 2 x 56/1024

    def test_flood_targets_give_their_interval_regimes_and_whether_the_runs_decide_them(self):
        rows = []
        base = {"verdict": "ok", "floor_rtt_p50_ns": "240", "pinning": "p0:0 c0:1",
                "producers": "1", "consumers": "1", "workload": "flood", "latency_p50_ns": "",
                "capacity": "1000", "bare_items_per_s": "1e6", "bare_rtt_p50_ns": "",
                "clock_cost_ns": "25"}
        # Ten reps each. moodycamel: fidelity 0.80..0.98, the median 0.89 between 0.85 and 0.90;
        # with latency off it misses and is undecided, with latency on it meets and is undecided.
        # boost_lockfree: all at 0.95..0.99, decided. Depths: 4 empty, 3 mid, 3 full, the
        # references all mid; none for boost_lockfree's references (an older file).
        for q, fids in (("moodycamel+spin", [0.80 + 0.02 * i for i in range(10)]),
                        ("boost_lockfree+spin", [0.95 + 0.004 * i for i in range(10)])):
            for rec in ("on", "off"):
                for rep, f in enumerate(fids):
                    depth = 50 if rep < 4 else 500 if rep < 7 else 950
                    rows.append(dict(base, queue=q, rep=str(rep), latency_recording=rec,
                                     throughput_per_s=str(f * 1e6), fidelity=str(f),
                                     median_depth=str(depth),
                                     bare_median_depth="500" if q[0] == "m" else ""))
        self.COLUMNS = TargetsTest.COLUMNS + ["capacity", "bare_items_per_s", "bare_rtt_p50_ns",
                                              "fidelity", "clock_cost_ns", "median_depth",
                                              "bare_median_depth"]
        text = self.run_targets(rows)
        self.assertIn("| moodycamel+spin flood, latency off: qbench / bare >= 0.90 | 0.89 "
                      "(interval 0.82..0.96; regimes 4/3/3, bare 0/10/0) | **missed** |", text)
        self.assertIn("| moodycamel+spin flood, latency on: qbench / bare >= 0.85 | 0.89 "
                      "(interval 0.82..0.96; regimes 4/3/3, bare 0/10/0) | met |", text)
        self.assertIn("| boost_lockfree+spin flood, latency off: qbench / bare >= 0.90 | 0.97 "
                      "(interval 0.95..0.98) | met |", text)
        self.assertIn("3 of 4 fidelity targets met.", text)
        self.assertIn("Undecided: 2 flood targets, met or missed, have an interval that reaches "
                      "across the bound, so these repetitions do not decide them either way "
                      "(moodycamel+spin latency off, moodycamel+spin latency on).", text)

    def test_other_item_sizes_are_listed_apart_and_never_counted_in_the_targets(self):
        rows = [dict(r, item_bytes="24") for r in self.rows()]
        for r in self.rows():
            if r["workload"] == "flood" and r["latency_recording"] == "off":
                # 64-byte floods 100x faster, at a fidelity of 0.5: not the default's figures.
                thr = float(r["throughput_per_s"]) * 100
                rows.append(dict(r, item_bytes="64", throughput_per_s=str(thr),
                                 bare_items_per_s=str(thr * 2), fidelity="0.5",
                                 median_depth="0", bare_median_depth="3000"))
        self.COLUMNS = TargetsTest.COLUMNS + ["item_bytes", "bare_items_per_s", "fidelity",
                                              "median_depth", "bare_median_depth"]
        text = self.run_targets(rows)
        self.assertIn("| ring_spsc+spin | 10.00M/s | 10.50M/s | 4.8% | 250 ns |", text)
        self.assertIn("12 of 13 targets met.", text)
        self.assertNotIn("fidelity targets met", text)  # no 24-byte row was calibrated
        sizes = text[text.index("Other item sizes"):]
        self.assertIn("| ring_spsc+spin | 64 | off | 1050.00M/s | 2100.00M/s | "
                      "0.50 (0.50..0.50) | 0 / 3.0k |", sizes)
        self.assertEqual(sizes.count(" | 64 | "), 8, sizes)

    def test_not_a_results_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.csv")
            with open(path, "w") as f:
                f.write("a,b\n1,2\n")
            p = subprocess.run([PYTHON, os.path.join(SCRIPTS, "targets.py"), path],
                               capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S)
            self.assertEqual(p.returncode, 2)
            self.assertIn("missing", p.stderr)


def release_binary():
    """True when QBENCH_BIN is an optimised build (its figures are results)."""
    if not QBENCH_BIN:
        return False
    p = subprocess.run([QBENCH_BIN, "--version"], capture_output=True, text=True, timeout=30)
    return "Release" in p.stdout or "RelWithDebInfo" in p.stdout


_DISASSEMBLY = {}


def disassembly():
    """The qbench binary's machine code as (function, lines) pairs, read once per test run."""
    if QBENCH_BIN not in _DISASSEMBLY:
        p = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", QBENCH_BIN],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"objdump failed: {p.stderr[:500]}")
        functions, name, lines = [], None, []
        head = re.compile(r"^[0-9a-f]+ <(.*)>:$")
        for line in p.stdout.splitlines():
            m = head.match(line)
            if m:
                if name is not None:
                    functions.append((name, lines))
                name, lines = m.group(1), []
            elif name is not None:
                lines.append(line)
        if name is not None:
            functions.append((name, lines))
        _DISASSEMBLY[QBENCH_BIN] = functions
    return _DISASSEMBLY[QBENCH_BIN]


def template_args(text):
    """The top-level template arguments of `text`, which starts right after a '<'."""
    depth, current, args = 0, "", []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            if depth == 0:
                args.append(current.strip())
                return args
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    return args


@unittest.skipUnless(release_binary(), "QBENCH_BIN is not set or not an optimised build")
class BareCodegenTest(unittest.TestCase):
    """The bare references' loops, in the machine code of the qbench binary: a reference is only
    a reference if the queue's operation is inlined in its loop. Left to GCC, ring_spsc's and
    ring_mpmc's bare producers called put() once per item (the item in memory), and their
    references read 8x and 2-3x under what the queues do."""

    def test_no_bare_loop_calls_its_push_or_pop_helper(self):
        loops, calls = set(), []
        helper = re.compile(r"call\s.*qb::bare_detail::(put|take)<")
        for function, lines in disassembly():
            if "qb::bare_detail::" not in function:
                continue
            loops.add(function)
            if any(helper.search(line) for line in lines):
                calls.append(function)
        self.assertTrue(any("bare_detail::flood_producer<" in f for f in loops),
                        "no bare flood loop found: has the code moved?")
        self.assertEqual(sorted(set(calls)), [], "bare loops that call put/take out of line")

    def test_harness_flood_loops_inline_what_the_bare_loops_inline(self):
        """A harness flood loop (producer_loop of FloodSchedule, the lean consumer_loop) of a
        try-only queue with a wait strategy, Waiting<B, S>, calls no function of B, nor of the
        library B adapts, out of line that B's bare loop inlines: where it did, the figure
        carried a call per item that the reference did not (our moodycamel adapter's enqueue in
        the producer, ring_spsc's make_room at 64 and 256 bytes, at f93d4f6; moodycamel's
        ExplicitProducer::enqueue and try_dequeue, atomic_queue's try_pop, at 8c6c3e3)."""
        kinds = {"void qb::engine_detail::producer_loop<": ("producer", "qb::FloodSchedule"),
                 "void qb::engine_detail::consumer_loop<": ("consumer", "true"),
                 "void qb::bare_detail::flood_producer<": ("bare producer", "true"),
                 "void qb::bare_detail::flood_consumer<": ("bare consumer", "true")}
        calls = {}
        for function, lines in disassembly():
            for prefix, (kind, second) in kinds.items():
                if not function.startswith(prefix):
                    continue
                args = template_args(function[len(prefix):])
                if len(args) < 2 or args[1] != second:
                    break
                queue = args[0]
                if not kind.startswith("bare"):
                    if not queue.startswith("qb::Waiting<"):
                        break
                    queue = template_args(queue[len("qb::Waiting<"):])[0]
                members = set()
                for line in lines:
                    m = re.search(r"call\s+\S+\s+<(.*)>$", line)
                    if not m:
                        continue
                    callee = m.group(1)
                    # A member of the queue's class or its handles, not of the harness's code;
                    # or a function of the library it adapts: a namespace not ours nor std's.
                    namespace = re.match(r"(?:[\w:<>, ]*? )?(\w+)::", callee)
                    if (queue + "::" in callee and "_detail::" not in callee.split(queue)[0]) \
                            or (namespace and namespace.group(1) not in ("qb", "std")):
                        members.add(re.sub(r"\(.*", "", callee))
                # Over every wait strategy S of B: what any of its loops calls.
                calls.setdefault((kind, queue), set()).update(members)
                break
        harness = [(kind, queue) for kind, queue in calls if not kind.startswith("bare")]
        self.assertTrue(any(q.startswith("qb::RingSpsc<") for _, q in harness),
                        "no harness flood loop of ring_spsc found: has the code moved?")
        extra = {}
        for kind, queue in harness:
            bare = calls.get(("bare " + kind, queue))
            if bare is None:
                continue  # a queue without a bare try-loop (driven through its own blocking calls)
            if calls[(kind, queue)] - bare:
                extra[f"{kind} of {queue}"] = sorted(calls[(kind, queue)] - bare)
        self.maxDiff = None
        self.assertEqual(extra, {}, "harness loops that call out of line what the bare loop inlines")


@unittest.skipUnless(QBENCH_BIN, "QBENCH_BIN is not set: set it to a qbench binary "
                                 "(e.g. build/release/qbench) to run the end-to-end test")
@NEEDS_MATPLOTLIB
class EndToEndTest(Checks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="qbench-e2e-")
        cls.tmp = cls._tmp.name
        cls.results = os.path.join(cls.tmp, "results.csv")
        cls.timeseries = os.path.join(cls.tmp, "timeseries.csv")
        command = [QBENCH_BIN, "run", "--queue", "mutex_cv,moodycamel+park",
                   "--workload", "steady,burst", "--producers", "1", "--consumers", "1,2",
                   "--rate", "20k", "--peak-rate", "200k", "--burst", "50ms",
                   "--period", "100ms", "--duration", "200ms", "--reps", "1", "--warmup", "0",
                   "--out", cls.results, "--timeseries", cls.timeseries]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            cls._tmp.cleanup()
            raise AssertionError(f"qbench failed (exit {proc.returncode}): {' '.join(command)}"
                                 f"\n{proc.stderr}")
        rows = qbcsv.load_results([cls.results])
        if any(r["sanitizer"] for r in rows):
            # The scripts refuse a sanitizer build's rows (BadInputTest checks that); there is
            # nothing to plot end to end.
            cls._tmp.cleanup()
            raise unittest.SkipTest(f"QBENCH_BIN={QBENCH_BIN} is a sanitizer build "
                                    f"({rows[0]['sanitizer']}): its rows are not results")
        ok = [r for r in rows if r["verdict"] == "ok"]
        cls.expected = set()
        for w in {r["workload"] for r in ok}:
            cls.expected.add(f"cpu_{w}.png")
            # A paced workload's throughput is drawn only where some run fell behind (kept_up
            # 0): where every run kept up, every queue sits on the offered rate.
            if any(r["kept_up"] != 1 for r in ok if r["workload"] == w):
                cls.expected.add(f"throughput_{w}.png")
            cls.expected |= {f"latency_{w}_{r['producers']}x{r['consumers']}.png"
                             for r in ok if r["workload"] == w}
            if any(r["wakeups"] is not None for r in ok if r["workload"] == w):
                cls.expected.add(f"wakeups_{w}.png")
        ts = qbcsv.load_timeseries([cls.timeseries])
        first = [r for r in ts if r["workload"] == "burst"][0]
        cls.expected.add(f"timeline_burst_{first['producers']}x{first['consumers']}_rep0.png")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_plot(self):
        out = os.path.join(self.tmp, "figs")
        proc = run_script("plot.py", self.results, "--out", out,
                          "--timeseries", self.timeseries)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        paths = self.printed_paths(proc)
        self.assertEqual({os.path.basename(p) for p in paths}, self.expected)
        kept_up = all(r["kept_up"] == 1 for r in qbcsv.load_results([self.results])
                      if r["verdict"] == "ok" and r["workload"] == "burst")
        self.assertEqual("throughput_burst.png" in {os.path.basename(p) for p in paths},
                         not kept_up)
        self.assertTrue(any(os.path.basename(p).startswith("timeline_burst_") for p in paths))
        for p in paths:
            self.assertPng(p)

    def test_plot_timeline_options(self):
        out = os.path.join(self.tmp, "figs_steady")
        proc = run_script("plot.py", self.results, "--out", out, "--timeseries",
                          self.timeseries, "--ts-workload", "steady", "--ts-shape", "1x2",
                          "--ts-rep", "0")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        timeline = os.path.join(out, "timeline_steady_1x2_rep0.png")
        self.assertIn(timeline, proc.stdout.splitlines())
        self.assertPng(timeline)
        proc = run_script("plot.py", self.results, "--out", out, "--timeseries",
                          self.timeseries, "--ts-shape", "7x7")
        self.assertCleanError(proc, "--ts-shape 7x7", "available")

    def test_report(self):
        out = os.path.join(self.tmp, "report.html")
        proc = run_script("report.py", self.results, "--out", out,
                          "--timeseries", self.timeseries, "--command", "qbench run -q a,b")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        with open(out, encoding="utf-8") as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        # It opens with the findings: the command, then per question (workload and shape) the
        # best queue by the question's figure, with its median and range; then the warnings.
        findings = page[page.index('id="findings"'):page.index('id="context"')]
        self.assertIn("<code>qbench run -q a,b</code>", findings)
        self.assertIn("<b>steady 1x1</b>: best p99 latency: <b>", findings)
        self.assertIn("<b>burst 1x2</b>: best p99 latency: <b>", findings)
        self.assertIn("1 repetition", findings)
        self.assertIn("One repetition per configuration", findings)
        self.assertLess(page.index('id="findings"'), page.index('id="summary-section"'))
        self.assertNotIn("docs/figures.md", page)  # a link that breaks once the file is shared
        # The tables scroll sideways in boxes of their own: a wide one never widens the page.
        self.assertIn('<div class="scroll"><table class="summary"', page)
        self.assertIn('<div class="scroll"><table class="context">', page)
        self.assertIn("div.scroll { overflow-x: auto;", page)
        images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
        self.assertEqual(len(images), len(self.expected))
        png = base64.b64decode(images[0], validate=True)
        self.assertTrue(png.startswith(PNG_SIGNATURE))
        width, height = struct.unpack(">II", png[16:24])
        self.assertGreater(width, 0)
        self.assertGreater(height, 0)
        try:
            import matplotlib.image
            pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
            self.assertEqual(pixels.shape[:2], (height, width))
        except ImportError:
            pass
        # the sortable summary table, one row per configuration (2 queues x 2 workloads x 2)
        self.assertIn('<table class="summary"', page)
        self.assertIn("<script>", page)
        self.assertEqual(len(re.findall(r"<tr><td>(mutex_cv|moodycamel\+park)</td>", page)), 8)
        for header in ("queue", "workload", "shape", "reps", "throughput/s", "p50", "p99",
                       "p99.9", "max", "CPU/item", "cores busy", "peak depth", "memory",
                       "refused", "kept up", "verdicts"):
            self.assertIn(f'scope="col">{header}</th>', page)
        # self-contained: no external resource
        self.assertNotRegex(page, r'(src|href)="(https?:)?//')


if __name__ == "__main__":
    unittest.main(verbosity=2)
