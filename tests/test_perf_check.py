#!/usr/bin/python3
"""Tests of scripts/perf-check.sh on a repository of a user's own (not qbench's tree).

    QBENCH_BIN=build/release/qbench /usr/bin/python3 tests/test_perf_check.py

Each test makes a scratch git repository whose "build" links the qbench binary named by
QBENCH_BIN into the build folder (a user's build would compile a QBENCH_MAIN binary there) and
records which checkout it ran in, so the tests see the base and the candidate built side by side
from their own commits. Skipped without QBENCH_BIN.
"""

import csv
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PERF_CHECK = os.path.join(os.path.dirname(HERE), "scripts", "perf-check.sh")
QBENCH = os.environ.get("QBENCH_BIN", "")
TIMEOUT_S = 240

# What a user's repository documents: the command that builds the benchmark binary into
# $QB_BUILD_DIR, the binary's path there, and a suite in the repository.
BUILD = 'ln -s "$QBENCH_BIN" "$QB_BUILD_DIR/bench" && cp version.txt "$QB_BUILD_DIR/"'
SUITE = """[run]
queue = "mutex_cv"
workload = "flood"
producers = "1"
consumers = "1"
duration = "100ms"
"""


def git(repo, *args):
    subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True)


@unittest.skipUnless(QBENCH, "QBENCH_BIN is not set (CTest sets it)")
class PerfCheckOnAUserRepository(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.repo = os.path.join(self.tmp.name, "my-project")
        os.makedirs(os.path.join(self.repo, "perf"))
        git(self.repo, "init", "-q")
        git(self.repo, "config", "user.email", "test@example.org")
        git(self.repo, "config", "user.name", "test")
        self.write("perf/ci.toml", SUITE)
        self.write("version.txt", "base\n")
        git(self.repo, "add", ".")
        git(self.repo, "commit", "-qm", "base")
        # The candidate: the working tree, with an uncommitted change.
        self.write("version.txt", "candidate\n")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, path, text):
        with open(os.path.join(self.repo, path), "w") as f:
            f.write(text)

    def perf_check(self, *args, cwd=None):
        env = dict(os.environ, QBENCH_BIN=os.path.abspath(QBENCH))
        for var in ("QB_BUILD", "QB_BENCH", "QB_SUITE", "QB_OUT", "QB_COMPARE_ARGS"):
            env.pop(var, None)
        return subprocess.run(["bash", PERF_CHECK, *args], cwd=cwd or self.repo, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)

    def assert_bad_input(self, proc, *words):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("perf-check: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])

    def test_builds_both_sides_runs_them_interleaved_and_compares(self):
        proc = self.perf_check("--build", BUILD, "--bench", "bench", "--suite", "perf/ci.toml",
                               "HEAD", "2")
        # Two rounds a side cannot decide anything: inconclusive (3), never a pass (0) or a
        # regression (1) on the same binary.
        self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
        out = os.path.join(self.repo, "out", "perf-check")
        for side, version in (("base", "base"), ("candidate", "candidate")):
            with open(os.path.join(out, "work", f"build-{side}", "version.txt")) as f:
                self.assertEqual(f.read().strip(), version, f"{side} built from the wrong tree")
            with open(os.path.join(out, f"{side}.csv")) as f:
                rows = list(csv.DictReader(f))
            self.assertEqual([r["rep"] for r in rows], ["0", "0"], side)  # one rep per round
            self.assertEqual({r["seed"] for r in rows}, {"1", "2"}, side)
            self.assertTrue(all(r["queue"] == "mutex_cv" for r in rows), side)
        order = [line for line in proc.stdout.splitlines() if line.startswith("=== round")]
        self.assertEqual(order, ["=== round 1/2: base", "=== round 1/2: candidate",
                                 "=== round 2/2: base", "=== round 2/2: candidate"])
        with open(os.path.join(out, "compare.txt")) as f:
            self.assertIn("inconclusive", f.read())
        self.assertTrue(os.path.exists(os.path.join(out, "compare.md")))
        self.assertTrue(os.path.exists(os.path.join(out, "report.html")))
        # The base's worktree is removed again; the repository is as it was.
        listing = subprocess.run(["git", "-C", self.repo, "worktree", "list"],
                                 capture_output=True, text=True).stdout
        self.assertEqual(len(listing.strip().splitlines()), 1, listing)

    def test_options_come_from_the_environment_too(self):
        env_args = dict(QB_BUILD=BUILD, QB_BENCH="bench", QB_SUITE="perf/ci.toml",
                        QB_OUT="elsewhere")
        env = dict(os.environ, QBENCH_BIN=os.path.abspath(QBENCH), **env_args)
        proc = subprocess.run(["bash", PERF_CHECK, "--no-figures", "HEAD", "1"], cwd=self.repo, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.repo, "elsewhere", "candidate.csv")))
        self.assertFalse(os.path.exists(os.path.join(self.repo, "elsewhere", "report.html")))

    def test_bad_input_is_one_line_and_exit_2(self):
        need = ("--build", BUILD, "--bench", "bench", "--suite", "perf/ci.toml")
        self.assert_bad_input(self.perf_check(*need), "usage")
        self.assert_bad_input(self.perf_check(*need, "HEAD", "0"), "ROUNDS")
        self.assert_bad_input(self.perf_check(*need, "--frobnicate", "HEAD"), "--frobnicate")
        self.assert_bad_input(self.perf_check(*need, "no-such-ref"), "no-such-ref")
        self.assert_bad_input(self.perf_check("--bench", "bench", "--suite", "perf/ci.toml",
                                              "HEAD"), "--build")
        self.assert_bad_input(self.perf_check("--build", BUILD, "--suite", "perf/ci.toml",
                                              "HEAD"), "--bench")
        self.assert_bad_input(self.perf_check("--build", BUILD, "--bench", "bench", "HEAD"),
                              "--suite")
        self.assert_bad_input(self.perf_check("--build", BUILD, "--bench", "bench", "--suite",
                                              "perf/none.toml", "HEAD"), "perf/none.toml")
        self.assert_bad_input(self.perf_check(*need, "--repo", "/no/such/dir", "HEAD"), "--repo")
        self.assert_bad_input(self.perf_check(*need, "HEAD", cwd=self.tmp.name),
                              "not inside a git repository")

    def test_a_failed_build_or_a_missing_binary_stops_with_exit_2(self):
        proc = self.perf_check("--build", "false", "--bench", "bench", "--suite",
                               "perf/ci.toml", "HEAD", "1")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("the base's build failed", proc.stderr)
        proc = self.perf_check("--build", "true", "--bench", "bench", "--suite",
                               "perf/ci.toml", "HEAD", "1")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertIn("made no executable", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.repo, "out", "perf-check",
                                                     "compare.txt")))


if __name__ == "__main__":
    unittest.main()
