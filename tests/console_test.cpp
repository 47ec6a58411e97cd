// The console reporter on made-up runs: one line per configuration with the median and range of
// its repetitions, the options that vary as columns, the summary per question with ratio
// intervals, and the notes (fell behind, noisy, one repetition, uncertain depth).
#include "results/console.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace {

using qb::ConsoleReporter;
using qb::RunResult;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

// A flood repetition of `queue` that consumed `per_s` items in one second.
RunResult flood(const std::string& queue, double per_s, int rep) {
  RunResult r;
  r.config.queue = queue;
  r.config.workload = qb::WorkloadKind::flood;
  r.config.rep = rep;
  r.elapsed_s = r.span_s = 1;
  r.consumed = r.offered = r.accepted = static_cast<std::uint64_t>(per_s);
  r.latency.record(1000 + rep);
  r.peak_depth = 10;
  r.depth_samples = 100;
  return r;
}

// A steady repetition offered 1000 items over `schedule_s`, consumed over `elapsed_s`.
RunResult steady(const std::string& queue, double elapsed_s, int rep, std::uint64_t rate) {
  RunResult r;
  r.config.queue = queue;
  r.config.workload = qb::WorkloadKind::steady;
  r.config.rate = static_cast<double>(rate);
  r.config.rep = rep;
  r.offered = r.accepted = r.consumed = 1000;
  r.schedule_s = 1;
  r.elapsed_s = r.span_s = elapsed_s;
  r.latency.record(50'000);
  r.depth_samples = 100;
  return r;
}

std::string report(const std::vector<RunResult>& runs, std::vector<ConsoleReporter::Varying> v = {},
                   bool interleaved = false) {
  std::ostringstream out;
  ConsoleReporter c(out);
  c.plan(std::move(v), 12, interleaved);
  c.report_context(qb::RunContext{});
  for (const RunResult& r : runs)
    c.report_run(r, "id");
  c.finalize();
  return out.str();
}

std::vector<std::string> starting_with(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& l : lines(text))
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  return out;
}

TEST(Console, OneLinePerConfigurationWithMedianAndRange) {
  std::vector<RunResult> runs;
  for (int rep = 0; rep < 5; ++rep)
    runs.push_back(flood("slow_q", 100'000 + 1000 * rep, rep));  // 100k .. 104k
  for (int rep = 0; rep < 5; ++rep)
    runs.push_back(flood("fast_q", 200'000 + 2000 * rep, rep));  // 200k .. 208k
  const std::string out = report(runs);
  const auto slow = starting_with(out, "slow_q ");
  ASSERT_EQ(slow.size(), 1u) << out;
  EXPECT_NE(slow[0].find("102.0k [100.0-104.0k]"), std::string::npos) << slow[0];
  EXPECT_EQ(starting_with(out, "fast_q ").size(), 1u) << out;
  // The summary: fast_q's throughput over slow_q's, 2x, with an interval that excludes 1.
  EXPECT_NE(out.find("best throughput: fast_q"), std::string::npos) << out;
  EXPECT_NE(out.find("fast_q: 2.00x (1.9"), std::string::npos) << out;
  EXPECT_NE(out.find("the throughput"), std::string::npos) << out;
  // The runner-up over the best, so that the ratio reads one way whatever the figure.
  EXPECT_NE(out.find("next slow_q: throughput 0.50x (0.4"), std::string::npos) << "told apart:\n"
                                                                               << out;
  EXPECT_EQ(out.find("noisy"), std::string::npos) << out;
  EXPECT_EQ(out.find("one repetition"), std::string::npos) << out;
}

// --interleave: the repetitions come round by round; each configuration still gets one line, of
// its own repetitions, in the order the configurations first came.
TEST(Console, InterleavedRepetitionsAreGatheredPerConfiguration) {
  std::vector<RunResult> runs;
  for (int rep = 0; rep < 5; ++rep) {
    runs.push_back(flood("slow_q", 100'000 + 1000 * rep, rep));  // 100k .. 104k
    runs.push_back(flood("fast_q", 200'000 + 2000 * rep, rep));  // 200k .. 208k
  }
  const std::string out = report(runs, {}, true);
  const auto slow = starting_with(out, "slow_q ");
  const auto fast = starting_with(out, "fast_q ");
  ASSERT_EQ(slow.size(), 1u) << out;
  ASSERT_EQ(fast.size(), 1u) << out;
  EXPECT_NE(slow[0].find("102.0k [100.0-104.0k]"), std::string::npos) << slow[0];
  EXPECT_NE(fast[0].find("204.0k [200.0-208.0k]"), std::string::npos) << fast[0];
  EXPECT_LT(out.find("slow_q "), out.find("fast_q ")) << out;
  EXPECT_NE(out.find("fast_q: 2.00x (1.9"), std::string::npos) << out;
  // The same runs told they come one configuration after another: a line per run.
  EXPECT_EQ(starting_with(report(runs), "slow_q ").size(), 5u);
}

// --calibrate: the fidelity line per configuration, and for a flood the median depths of the runs
// and of their references, so that a fidelity far from 1 shows whether the two ran in different
// regimes (a full ring against an empty one).
TEST(Console, FidelityLinesCarryTheRegimeOfTheRunsAndOfTheirReferences) {
  std::vector<RunResult> runs;
  for (int rep = 0; rep < 3; ++rep) {
    RunResult r = flood("fast_q", 200'000, rep);
    r.config.capacity = 1000;
    r.bare_items_per_s = 100'000 + 50'000 * rep;  // fidelity 2, 1.33, 1
    r.median_depth = 990 + static_cast<std::uint64_t>(rep);
    r.bare_median_depth = 3 + static_cast<std::uint64_t>(rep);
    runs.push_back(r);
  }
  RunResult pp = flood("fast_q", 1000, 0);
  pp.config.workload = qb::WorkloadKind::pingpong;
  pp.bare_rtt_p50_ns = 500;  // no depth: one item in flight
  runs.push_back(pp);
  const std::string out = report(runs);
  const auto f = starting_with(out, "  fast_q flood 1x1 capacity 1000, latency on: ");
  ASSERT_EQ(f.size(), 1u) << out;
  EXPECT_NE(f[0].find("1.33 (1.00 .. 2.00, 3 runs); depth 991 against bare 4"), std::string::npos)
      << f[0];
  const auto p = starting_with(out, "  fast_q pingpong 1x1");
  ASSERT_EQ(p.size(), 1u) << out;
  EXPECT_EQ(p[0].find("depth"), std::string::npos) << p[0];
}

// Floods of other item sizes (--item-bytes) get fidelity lines of their own, never merged with
// the 24-byte runs of the same queue.
TEST(Console, FidelityLinesAreKeptApartPerItemSize) {
  std::vector<RunResult> runs;
  for (const std::size_t bytes : {sizeof(qb::Item), std::size_t{256}}) {
    for (int rep = 0; rep < 3; ++rep) {
      RunResult r = flood("fast_q", 200'000, rep);
      r.config.capacity = 1000;
      r.config.item_bytes = bytes;
      r.bare_items_per_s = bytes == 256 ? 400'000 : 100'000;  // fidelity 0.5, and 2
      runs.push_back(r);
    }
  }
  const std::string out = report(
      runs, {{"item-bytes", [](const qb::RunConfig& c) { return std::to_string(c.item_bytes); }}});
  const auto f24 = starting_with(out, "  fast_q flood 1x1 capacity 1000, latency on: ");
  ASSERT_EQ(f24.size(), 1u) << out;
  EXPECT_NE(f24[0].find("2.00 (2.00 .. 2.00, 3 runs)"), std::string::npos) << f24[0];
  const auto f256 =
      starting_with(out, "  fast_q flood 1x1 capacity 1000 item-bytes 256, latency on: ");
  ASSERT_EQ(f256.size(), 1u) << out;
  EXPECT_NE(f256[0].find("0.50 (0.50 .. 0.50, 3 runs)"), std::string::npos) << f256[0];
}

TEST(Console, OverlappingRepetitionsAreNotToldApart) {
  std::vector<RunResult> runs;
  for (int rep = 0; rep < 5; ++rep)
    runs.push_back(flood("a_q", 1000 + 100 * rep, rep));
  for (int rep = 0; rep < 5; ++rep)
    runs.push_back(flood("b_q", 1050 + 100 * rep, rep));
  const std::string out = report(runs);
  EXPECT_NE(out.find("not distinguishable from a_q"), std::string::npos) << out;
  EXPECT_NE(out.find("noisy"), std::string::npos) << "a 40% range:\n" << out;
}

TEST(Console, APacedRunThatFellBehindIsMarkedWithTheShareAchieved) {
  std::vector<RunResult> runs;
  for (int rep = 0; rep < 5; ++rep)
    runs.push_back(steady("kept_q", 1.0, rep, 1000));
  for (int rep = 0; rep < 5; ++rep)
    runs.push_back(steady("late_q", 2.0, rep, 1000));  // twice the schedule: half the rate
  const std::string out = report(runs);
  const auto kept = starting_with(out, "kept_q "), late = starting_with(out, "late_q ");
  ASSERT_EQ(kept.size(), 1u);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_NE(kept[0].find(" yes "), std::string::npos) << kept[0];
  EXPECT_NE(late[0].find("BEHIND 50%"), std::string::npos) << late[0];
  EXPECT_NE(late[0].find(" ok"), std::string::npos) << "behind is not a failure: " << late[0];
  EXPECT_NE(out.find("late_q: p99"), std::string::npos) << out;
  EXPECT_NE(out.find("fell BEHIND the offered load"), std::string::npos) << out;
  // The best p99 is chosen among the queues that kept up.
  EXPECT_NE(out.find("best p99 latency: kept_q"), std::string::npos) << out;
}

TEST(Console, VaryingOptionsAreColumnsAndSplitTheQuestions) {
  std::vector<RunResult> runs;
  for (const std::uint64_t rate : {1000, 2000})
    for (const char* q : {"a_q", "b_q"})
      for (int rep = 0; rep < 2; ++rep)
        runs.push_back(steady(q, 1.0, rep, rate));
  const std::string out =
      report(runs, {{"rate", [](const qb::RunConfig& c) { return std::to_string(int(c.rate)); }}});
  EXPECT_EQ(starting_with(out, "a_q ").size(), 2u) << out;
  EXPECT_NE(out.find(" rate "), std::string::npos) << "the heading:\n" << out;
  EXPECT_NE(out.find("steady 1x1 rate 1000 (2 repetitions each)"), std::string::npos) << out;
  EXPECT_NE(out.find("steady 1x1 rate 2000 (2 repetitions each)"), std::string::npos) << out;
  EXPECT_NE(out.find("no interval with fewer than 4 a side"), std::string::npos) << out;
}

TEST(Console, OneRepetitionAndShortRunsAreCalledOut) {
  RunResult r = flood("a_q", 1000, 0);
  r.depth_samples = 1;  // a run of one sampler tick
  const std::string out = report({r});
  EXPECT_NE(out.find("one repetition per configuration"), std::string::npos) << out;
  EXPECT_NE(out.find("depth ?"), std::string::npos) << out;
  const auto line = starting_with(out, "a_q ");
  ASSERT_EQ(line.size(), 1u);
  EXPECT_NE(line[0].find(" ? "), std::string::npos) << line[0];
}

TEST(Console, FailedRepetitionsAreCountedAndListedUnderTheirLine) {
  std::vector<RunResult> runs;
  for (int rep = 0; rep < 3; ++rep) {
    RunResult r = flood("a_q", 1000, rep);
    if (rep == 1) {
      r.verdict = qb::Verdict::failed;
      r.detail = "2 items lost";
    }
    runs.push_back(r);
  }
  const std::string out = report(runs);
  const auto l = lines(out);
  const auto it = std::find_if(l.begin(), l.end(),
                               [](const std::string& s) { return s.rfind("a_q ", 0) == 0; });
  ASSERT_NE(it, l.end()) << out;
  EXPECT_NE(it->find("1/3 FAILED"), std::string::npos) << *it;
  ASSERT_NE(it + 1, l.end());
  EXPECT_EQ(*(it + 1), "    rep 1: failed: 2 items lost");
  EXPECT_NE(out.find("1 of 3 runs did not pass"), std::string::npos) << out;
}

}  // namespace
