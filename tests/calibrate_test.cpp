// CPU affinity (harness/affinity.hpp) and `qbench calibrate` (harness/calibrate.hpp): pinning
// plans, pinning itself, calibrate() on small counts, and the command end to end (QBENCH_BIN).
// No timing thresholds: machines are noisy, and a floor is whatever this machine gives.
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/affinity.hpp"
#include "harness/calibrate.hpp"
#include "results/csv.hpp"
#include "tests/file_support.hpp"
#include "tests/qbench_process.hpp"

#ifndef QBENCH_BIN
#error "QBENCH_BIN must name the qbench executable"
#endif

namespace {

namespace fs = std::filesystem;
using qb::test::describe;
using qb::test::lines_of;
using qb::test::Outcome;
using qb::test::shell_quote;
using qb::test::slurp;
using qb::test::write_file;

// ---- plan_pinning and describe ------------------------------------------------------------

TEST(PlanPinning, OneByOneOnTwoCpusUsesBoth) {
  const qb::PinPlan p = qb::plan_pinning(1, 1, {0, 1});
  EXPECT_EQ(p.producer_cpu, std::vector<unsigned>{0});
  EXPECT_EQ(p.consumer_cpu, std::vector<unsigned>{1});
  EXPECT_FALSE(p.oversubscribed);
  EXPECT_EQ(qb::describe(p), "p0:0 c0:1");
}

TEST(PlanPinning, FourByFourOnTwoCpusAlternates) {
  const qb::PinPlan p = qb::plan_pinning(4, 4, {0, 1});
  EXPECT_EQ(p.producer_cpu, (std::vector<unsigned>{0, 0, 0, 0}));
  EXPECT_EQ(p.consumer_cpu, (std::vector<unsigned>{1, 1, 1, 1}));
  EXPECT_TRUE(p.oversubscribed);
  EXPECT_EQ(qb::describe(p), "p0:0 c0:1 p1:0 c1:1 p2:0 c2:1 p3:0 c3:1");
}

TEST(PlanPinning, FourByFourOnFourCpusSpreadsRoundRobin) {
  const qb::PinPlan p = qb::plan_pinning(4, 4, {0, 1, 2, 3});
  EXPECT_EQ(p.producer_cpu, (std::vector<unsigned>{0, 2, 0, 2}));
  EXPECT_EQ(p.consumer_cpu, (std::vector<unsigned>{1, 3, 1, 3}));
  EXPECT_TRUE(p.oversubscribed);
}

TEST(PlanPinning, OneCpuTakesEveryThread) {
  const qb::PinPlan p = qb::plan_pinning(3, 2, {5});
  EXPECT_EQ(p.producer_cpu, (std::vector<unsigned>{5, 5, 5}));
  EXPECT_EQ(p.consumer_cpu, (std::vector<unsigned>{5, 5}));
  EXPECT_TRUE(p.oversubscribed);
  EXPECT_EQ(qb::describe(p), "p0:5 c0:5 p1:5 c1:5 p2:5");
}

TEST(PlanPinning, UnevenSidesContinueInOrderOverTheGivenCpus) {
  // The CPUs are used as given: not necessarily 0..n-1.
  const qb::PinPlan p = qb::plan_pinning(1, 3, {2, 5, 7, 9});
  EXPECT_EQ(p.producer_cpu, std::vector<unsigned>{2});
  EXPECT_EQ(p.consumer_cpu, (std::vector<unsigned>{5, 7, 9}));
  EXPECT_FALSE(p.oversubscribed);
  EXPECT_EQ(qb::describe(p), "p0:2 c0:5 c1:7 c2:9");
}

TEST(PlanPinning, NoCpusIsAnError) {
  EXPECT_THROW((void)qb::plan_pinning(1, 1, {}), std::invalid_argument);
}

TEST(Describe, IsCsvSafe) {
  const std::string s = qb::describe(qb::plan_pinning(16, 16, {0, 1, 2}));
  EXPECT_EQ(s.find(','), std::string::npos);
  EXPECT_EQ(s.find('"'), std::string::npos);
  EXPECT_EQ(s.find('\n'), std::string::npos);
  EXPECT_EQ(qb::csv_line({s}), s) << "needs no quoting";
  EXPECT_EQ(qb::describe(qb::PinPlan{}), "");
}

// ---- allowed_cpus and pin_current_thread ----------------------------------------------------

TEST(Affinity, AllowedCpusAreSortedAndUnique) {
  const auto cpus = qb::allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
  EXPECT_EQ(std::adjacent_find(cpus.begin(), cpus.end()), cpus.end());
}

// Pinning happens on a thread of its own, so that the test's thread keeps its affinity.
TEST(Affinity, PinningToEachAllowedCpuMovesTheThreadThere) {
  const auto cpus = qb::allowed_cpus();
  for (unsigned cpu : cpus) {
    bool ok = false;
    std::string error;
    int ran_on = -1;
    std::thread t([&] {
      ok = qb::pin_current_thread(cpu, &error);
      ran_on = sched_getcpu();
    });
    t.join();
    EXPECT_TRUE(ok) << error;
    EXPECT_EQ(ran_on, static_cast<int>(cpu));
  }
}

TEST(Affinity, AllowedCpusIsTheProcessMaskEvenFromAPinnedThread) {
  const auto before = qb::allowed_cpus();
  std::vector<unsigned> seen;
  std::thread t([&] {
    ASSERT_TRUE(qb::pin_current_thread(before.front(), nullptr));
    seen = qb::allowed_cpus();
  });
  t.join();
  EXPECT_EQ(seen, before);
}

TEST(Affinity, PinningToAnImpossibleCpuFailsWithAMessageAndChangesNothing) {
  for (unsigned cpu : {65000u, 1'000'000u}) {
    bool ok = true;
    std::string error;
    cpu_set_t before, after;
    std::thread t([&] {
      CPU_ZERO(&before);
      CPU_ZERO(&after);
      sched_getaffinity(0, sizeof before, &before);
      ok = qb::pin_current_thread(cpu, &error);
      sched_getaffinity(0, sizeof after, &after);
    });
    t.join();
    EXPECT_FALSE(ok) << cpu;
    EXPECT_NE(error.find(std::to_string(cpu)), std::string::npos) << error;
    EXPECT_NE(error.find("failed: "), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_TRUE(CPU_EQUAL(&before, &after));
    // A null error pointer is allowed.
    std::thread u([&] { EXPECT_FALSE(qb::pin_current_thread(cpu, nullptr)); });
    u.join();
  }
}

// ---- calibrate() ----------------------------------------------------------------------------

qb::CalibrateOptions small_options() {
  qb::CalibrateOptions o;
  o.round_trips = 2000;
  o.warmup_round_trips = 200;
  o.ring_items = 100'000;
  return o;
}

void expect_sane(const qb::Calibration& c) {
  EXPECT_GT(c.rtt_min_ns, 0);
  EXPECT_LE(c.rtt_min_ns, c.rtt_p50_ns);
  EXPECT_LE(c.rtt_p50_ns, c.rtt_p99_ns);
  EXPECT_LE(c.rtt_p99_ns, c.rtt_max_ns);
  EXPECT_GT(c.clock_read_ns, 0);
  EXPECT_GT(c.bare_ring_items_per_s, 0);
}

TEST(Calibrate, SmallCountsGiveOrderedPositiveFigures) {
  const qb::Calibration c = qb::calibrate(small_options());
  expect_sane(c);
  EXPECT_EQ(c.round_trips, 2000u);
  EXPECT_EQ(c.ring_items, 100'000u);
  if (qb::allowed_cpus().size() >= 2) {
    const auto cpus = qb::allowed_cpus();
    EXPECT_EQ(c.pinning, "cpu" + std::to_string(cpus[0]) + "<->cpu" + std::to_string(cpus[1]));
    EXPECT_TRUE(c.note.empty()) << c.note;
  } else {
    EXPECT_EQ(c.pinning, "unpinned");
  }
}

TEST(Calibrate, BatchOfOneAndARoundTripCountThatIsNoMultipleOfTheBatch) {
  auto o = small_options();
  o.round_trips = 37;
  o.rtt_batch = 1;
  expect_sane(qb::calibrate(o));
  o.rtt_batch = 16;  // 2 full batches and one of 5
  const auto c = qb::calibrate(o);
  expect_sane(c);
  EXPECT_EQ(c.round_trips, 37u);
}

TEST(Calibrate, OneCpuRunsUnpinnedAndSaysSo) {
  auto o = small_options();
  o.round_trips = 300;
  o.ring_items = 20'000;
  o.ring_capacity = 64;
  o.cpus = {qb::allowed_cpus().front()};
  const qb::Calibration c = qb::calibrate(o);
  expect_sane(c);
  EXPECT_EQ(c.pinning, "unpinned");
  EXPECT_NE(c.note.find("oversubscribed"), std::string::npos) << c.note;
}

TEST(Calibrate, CpusThatCannotBeHadFallBackToUnpinnedAndSaySo) {
  auto o = small_options();
  o.round_trips = 300;
  o.ring_items = 20'000;
  o.cpus = {65000, 65001};
  const qb::Calibration c = qb::calibrate(o);
  expect_sane(c);
  EXPECT_EQ(c.pinning, "unpinned");
  EXPECT_NE(c.note.find("CPU 6500"), std::string::npos) << c.note;
  EXPECT_NE(c.note.find("ran unpinned"), std::string::npos) << c.note;
}

TEST(Calibrate, ZeroCountsAreRefused) {
  auto o = small_options();
  o.round_trips = 0;
  EXPECT_THROW((void)qb::calibrate(o), std::invalid_argument);
  o = small_options();
  o.ring_items = 0;
  EXPECT_THROW((void)qb::calibrate(o), std::invalid_argument);
  o = small_options();
  o.rtt_batch = 0;
  EXPECT_THROW((void)qb::calibrate(o), std::invalid_argument);
}

TEST(CalibrateCsv, LineMatchesTheHeaderAndQuotesTheCpuModel) {
  qb::RunContext ctx;
  ctx.timestamp = "2024-01-01T00:00:00Z";
  ctx.host = "h";
  ctx.cpu_model = "Vendor CPU, 2 GHz";
  ctx.cores = 2;
  qb::Calibration c;
  c.pinning = "cpu0<->cpu1";
  c.rtt_min_ns = 50;
  c.rtt_p50_ns = 60.5;
  c.rtt_p99_ns = 70;
  c.rtt_max_ns = 900;
  c.clock_read_ns = 21.25;
  c.bare_ring_items_per_s = 1.5e8;
  c.round_trips = 100;
  c.ring_items = 1000;
  const auto header = qb::parse_csv_line(qb::cli::calibration_csv_header());
  const auto row = qb::parse_csv_line(qb::cli::calibration_csv_line(ctx, c));
  ASSERT_EQ(row.size(), header.size());
  // schema_version and the machine context first, as in the results file; then the floor.
  EXPECT_EQ(qb::cli::calibration_csv_header(),
            "schema_version,timestamp,qbench_version,git_sha,host,cpu_model,cores,memory_bytes,"
            "kernel,compiler,build_type,sanitizer,pinning,rtt_min_ns,rtt_p50_ns,rtt_p99_ns,"
            "rtt_max_ns,clock_read_ns,bare_ring_items_per_s,round_trips,ring_items,cpu_pairs,"
            "pair_rtt_min_ns,pair_rtt_median_ns,pair_rtt_max_ns");
  const auto at = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? std::string("<no column>")
                              : row[static_cast<std::size_t>(it - header.begin())];
  };
  EXPECT_EQ(at("schema_version"), "1");
  EXPECT_EQ(at("cpu_model"), "Vendor CPU, 2 GHz");
  EXPECT_EQ(at("pinning"), "cpu0<->cpu1");
  EXPECT_EQ(at("cores"), "2");
  EXPECT_EQ(at("rtt_p50_ns"), "60.500");
  EXPECT_EQ(at("clock_read_ns"), "21.25");
  EXPECT_EQ(at("bare_ring_items_per_s"), "150000000");
  EXPECT_EQ(at("round_trips"), "100");
  EXPECT_EQ(at("ring_items"), "1000");
}

// ---- qbench calibrate, end to end -----------------------------------------------------------

class QbenchCalibrate : public qb::test::QbenchProcess {
 protected:
  Outcome qbench(const std::vector<std::string>& args) const { return run(QBENCH_BIN, args, 120); }
};

struct BadCalibrate {
  const char* name;
  std::vector<std::string> args;  // after "calibrate"; --out <dir>/cal.csv is appended unless given
  std::vector<std::string> expect_in_message;
};

std::ostream& operator<<(std::ostream& os, const BadCalibrate& b) {
  return os << b.name;
}

class QbenchCalibrateBadInput : public QbenchCalibrate,
                                public ::testing::WithParamInterface<BadCalibrate> {};

TEST_P(QbenchCalibrateBadInput, ExitsTwoWithOneLineAndWritesNothing) {
  const BadCalibrate& b = GetParam();
  std::vector<std::string> args = {"calibrate"};
  args.insert(args.end(), b.args.begin(), b.args.end());
  const fs::path out = dir_ / "cal.csv";
  if (std::find(b.args.begin(), b.args.end(), "--out") == b.args.end()) {
    args.push_back("--out");
    args.push_back(out);
  }
  const Outcome o = qbench(args);
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << "stderr must be one line:\n"
                                                             << o.err;
  for (const auto& needle : b.expect_in_message)
    EXPECT_NE(o.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << o.err;
  EXPECT_TRUE(o.out.empty()) << "nothing measured: " << o.out;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(entries().empty()) << "stray file: " << entries().front();
}

const BadCalibrate kBadCalibrate[] = {
    {"RoundTripsZero", {"--round-trips", "0"}, {"--round-trips", "'0'", "1 to 1G"}},
    {"RoundTripsAboveBillion", {"--round-trips", "1000000001"}, {"--round-trips", "1 to 1G"}},
    {"RoundTripsTwoG", {"--round-trips", "2G"}, {"--round-trips", "'2G'"}},
    {"RoundTripsNegative", {"--round-trips=-5"}, {"--round-trips", "'-5'"}},
    {"RoundTripsNotANumber", {"--round-trips", "many"}, {"--round-trips", "'many'"}},
    {"RingItemsZero", {"--ring-items", "0"}, {"--ring-items", "'0'", "1 to 10G"}},
    {"RingItemsFraction", {"--ring-items", "1.5"}, {"--ring-items", "'1.5'"}},
    {"UnknownFlag", {"--frobnicate"}, {"--frobnicate", "calibrate"}},
    {"OutInMissingDirectory",
     {"--round-trips", "100", "--out", "/nonexistent-dir/cal.csv"},
     {"--out", "/nonexistent-dir/cal.csv"}},
};

INSTANTIATE_TEST_SUITE_P(Calibrate, QbenchCalibrateBadInput, ::testing::ValuesIn(kBadCalibrate),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(QbenchCalibrate, WritesAParseableOneRowCsvAndAppendsASecond) {
  const fs::path out = dir_ / "cal.csv";
  const std::vector<std::string> args = {"calibrate", "--round-trips", "2000", "--ring-items",
                                         "100000",    "--out",         out};
  const Outcome o = qbench(args);
  ASSERT_EQ(o.code, 0) << describe(o);
  for (const char* needle :
       {"pinning", "round trip p50", "clock read", "bare ring_spsc", " ns", "items/s"})
    EXPECT_NE(o.out.find(needle), std::string::npos) << needle << " not in:\n" << o.out;
  EXPECT_EQ(entries(), std::vector<std::string>{"cal.csv"}) << "no temporary file left";

  auto lines = lines_of(slurp(out));
  ASSERT_EQ(lines.size(), 2u) << slurp(out);
  EXPECT_EQ(lines[0], qb::cli::calibration_csv_header());
  const auto header = qb::parse_csv_line(lines[0]);
  const auto row = qb::parse_csv_line(lines[1]);
  ASSERT_EQ(row.size(), header.size());
  const auto col = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return it == header.end() ? std::string() : row[static_cast<std::size_t>(it - header.begin())];
  };
  const double mn = std::stod(col("rtt_min_ns"));
  const double p50 = std::stod(col("rtt_p50_ns"));
  const double p99 = std::stod(col("rtt_p99_ns"));
  const double mx = std::stod(col("rtt_max_ns"));
  EXPECT_GT(mn, 0);
  EXPECT_LE(mn, p50);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, mx);
  EXPECT_GT(std::stod(col("clock_read_ns")), 0);
  EXPECT_GT(std::stod(col("bare_ring_items_per_s")), 0);
  EXPECT_GE(std::stoul(col("cores")), 1u);
  EXPECT_FALSE(col("timestamp").empty());
  EXPECT_FALSE(col("host").empty());
  EXPECT_FALSE(col("pinning").empty());
  EXPECT_EQ(col("round_trips"), "2000");
  // The core-to-core matrix: every pair of allowed CPUs when pinned.
  const std::size_t cpus = qb::allowed_cpus().size();
  if (col("pinning") != "unpinned" && cpus >= 2) {
    EXPECT_EQ(std::stoul(col("cpu_pairs")), cpus * (cpus - 1) / 2);
    const double lo = std::stod(col("pair_rtt_min_ns"));
    EXPECT_GT(lo, 0);
    EXPECT_LE(lo, std::stod(col("pair_rtt_median_ns")));
    EXPECT_LE(std::stod(col("pair_rtt_median_ns")), std::stod(col("pair_rtt_max_ns")));
    EXPECT_NE(o.out.find("core to core"), std::string::npos) << o.out;
  }

  // The same header: appended, never replaced.
  const Outcome again = qbench(args);
  ASSERT_EQ(again.code, 0) << describe(again);
  lines = lines_of(slurp(out));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(qb::parse_csv_line(lines[2]).size(), header.size());
  EXPECT_EQ(entries(), std::vector<std::string>{"cal.csv"});
}

TEST_F(QbenchCalibrate, RefusesAFileOfAnotherSchemaAndLeavesItAlone) {
  const fs::path out = dir_ / "results.csv";
  write_file(out, "schema_version,queue\n1,mutex_cv\n");
  const Outcome o = qbench({"calibrate", "--round-trips", "100", "--out", out});
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_NE(o.err.find("--out"), std::string::npos) << o.err;
  EXPECT_EQ(slurp(out), "schema_version,queue\n1,mutex_cv\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"results.csv"});
}

}  // namespace
