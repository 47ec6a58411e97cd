// End-to-end tests of the qbench command (QBENCH_BIN): bad input exits 2 with one line on stderr
// naming the flag and writes nothing; good input runs, writes or appends the CSV, and refuses to
// touch a file of another schema. Every qbench run here lasts 30-100 ms.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness/run_options.hpp"
#include "harness/topology.hpp"
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

// A parsed results file: the header and the rows, by column name.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  [[nodiscard]] std::string at(std::size_t row, const std::string& col) const {
    const auto it = std::find(header.begin(), header.end(), col);
    if (it == header.end()) {
      ADD_FAILURE() << "no column " << col;
      return {};
    }
    const auto i = static_cast<std::size_t>(it - header.begin());
    return i < rows.at(row).size() ? rows.at(row)[i] : std::string("<missing>");
  }
};

class QbenchCli : public qb::test::QbenchProcess {
 protected:
  Outcome qbench(const std::vector<std::string>& args) const { return run(QBENCH_BIN, args, 60); }
  // One repetition and no warm-up (the defaults are 5 and 1): for the tests of plumbing (files,
  // options, verdicts), where one row per configuration is the point.
  static std::vector<std::string> once(std::vector<std::string> args) {
    args.insert(args.end(), {"--reps", "1", "--warmup", "0"});
    return args;
  }

  [[nodiscard]] Csv read_csv(const fs::path& p) const {
    Csv c;
    const auto lines = lines_of(slurp(p));
    if (lines.empty()) {
      ADD_FAILURE() << p << " is empty or missing";
      return c;
    }
    c.header = qb::parse_csv_line(lines[0]);
    for (std::size_t i = 1; i < lines.size(); ++i) {
      c.rows.push_back(qb::parse_csv_line(lines[i]));
      EXPECT_EQ(c.rows.back().size(), c.header.size()) << "line " << i + 1 << " of " << p;
    }
    return c;
  }
};

// ---- Bad input: exit 2, one line on stderr naming the flag, nothing written -----------------

struct BadInput {
  const char* name;
  std::vector<std::string> args;  // after "run"; --out <dir>/out.csv is appended unless given
  std::vector<std::string> expect_in_message;
};

std::ostream& operator<<(std::ostream& os, const BadInput& b) {
  return os << b.name;
}

class QbenchBadInput : public QbenchCli, public ::testing::WithParamInterface<BadInput> {};

TEST_P(QbenchBadInput, ExitsTwoWithOneLineAndWritesNothing) {
  const BadInput& b = GetParam();
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), b.args.begin(), b.args.end());
  const bool own_out = std::find(b.args.begin(), b.args.end(), "--out") != b.args.end();
  const fs::path out = dir_ / "out.csv";
  if (!own_out) {
    args.push_back("--out");
    args.push_back(out);
  }
  const Outcome o = qbench(args);
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_FALSE(o.err.empty());
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << "stderr must be one line:\n"
                                                             << o.err;
  if (!o.err.empty()) {
    EXPECT_EQ(o.err.back(), '\n');
  }
  for (const auto& needle : b.expect_in_message)
    EXPECT_NE(o.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << o.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(entries().empty()) << "stray file: " << entries().front();
}

const BadInput kBadInputs[] = {
    {"UnknownQueue", {"-q", "mutex_cvv"}, {"--queue", "mutex_cvv", "'mutex_cv'"}},
    {"ZeroProducers", {"-q", "mutex_cv", "-p", "0"}, {"--producers", "'0'"}},
    {"ZeroInAProducerList", {"-q", "mutex_cv", "-p", "1,0"}, {"--producers", "'0'"}},
    {"NegativeConsumers", {"-q", "mutex_cv", "-c", "-1"}, {"--consumers", "'-1'"}},
    {"NegativeConsumersEq", {"-q", "mutex_cv", "--consumers=-1"}, {"--consumers", "'-1'"}},
    {"EmptyListItem", {"-q", "mutex_cv,", "-d", "30ms"}, {"--queue"}},
    {"RateZero", {"-q", "mutex_cv", "-w", "steady", "--rate", "0"}, {"--rate", "'0'"}},
    {"RateNegative", {"-q", "mutex_cv", "-w", "steady", "--rate=-5k"}, {"--rate", "'-5k'"}},
    {"RateNegativeSeparate", {"-q", "mutex_cv", "-w", "steady", "--rate", "-5k"}, {"--rate"}},
    {"RateBadUnit", {"-q", "mutex_cv", "--rate", "5x"}, {"--rate", "'5x'"}},
    {"DurationWithoutUnit", {"-q", "mutex_cv", "--duration", "5"}, {"--duration", "'5'"}},
    {"DurationBadUnit", {"-q", "mutex_cv", "--duration", "5parsecs"}, {"--duration", "5parsecs"}},
    {"CapacityZero", {"-q", "mutex_cv", "--capacity", "0"}, {"--capacity", "'0'"}},
    // Options no run of the matrix reads: an error, not a silent no-op.
    {"RateWithFlood",
     {"-q", "mutex_cv", "-w", "flood", "-r", "10k"},
     {"--rate", "'10k'", "steady"}},
    {"PeakRateWithSteady",
     {"-q", "mutex_cv", "-w", "steady", "--peak-rate", "2M"},
     {"--peak-rate", "burst", "--workload steady"}},
    {"BurstWithFlood", {"-q", "mutex_cv", "--burst", "10ms"}, {"--burst", "burst"}},
    {"PeriodWithPingpong", {"-q", "mutex_cv", "-w", "pingpong", "--period", "2s"}, {"--period"}},
    {"GapsWithFlood", {"-q", "mutex_cv", "--gaps", "poisson"}, {"--gaps", "steady and burst"}},
    {"PacingWithTree", {"-q", "mutex_cv", "-w", "tree", "--pacing", "spin"}, {"--pacing"}},
    {"ItemBytesWithSteady",
     {"-q", "mutex_cv", "-w", "steady", "--item-bytes", "8"},
     {"--item-bytes", "flood and pingpong"}},
    {"ItemBytesNotASize", {"-q", "mutex_cv", "--item-bytes", "12"}, {"--item-bytes", "'12'"}},
    {"FanoutWithoutTree",
     {"-q", "mutex_cv", "-w", "steady", "--fanout", "4"},
     {"--fanout", "tree"}},
    {"DepthWithoutTree", {"-q", "mutex_cv", "--depth", "3"}, {"--depth", "tree"}},
    {"KeysWithTree", {"-q", "mutex_cv", "-w", "tree", "--keys", "16"}, {"--keys"}},
    {"CapacityNotANumber", {"-q", "mutex_cv", "--capacity", "abc"}, {"--capacity", "'abc'"}},
    {"BackpressureTimeoutWithoutDuration",
     {"-q", "mutex_cv", "--backpressure", "timeout:"},
     {"--backpressure", "timeout:"}},
    {"BackpressureUnknown", {"-q", "mutex_cv", "--backpressure", "sometimes"}, {"--backpressure"}},
    {"WorkloadUnknown", {"-q", "mutex_cv", "--workload", "hurricane"}, {"--workload", "hurricane"}},
    {"WorkWithoutDuration", {"-q", "mutex_cv", "--work", "fixed:"}, {"--work", "fixed:"}},
    {"RepsZero", {"-q", "mutex_cv", "--reps", "0"}, {"--reps", "'0'"}},
    {"BurstLongerThanPeriod",
     {"-q", "mutex_cv", "--workload", "burst", "--burst", "2s", "--period", "1s"},
     {"--burst", "--period"}},
    {"PeakBelowRate",
     {"-q", "mutex_cv", "--workload", "burst", "--rate", "500k", "--peak-rate", "100k"},
     {"--peak-rate", "100k"}},
    {"OutInMissingDirectory",
     {"-q", "mutex_cv", "-d", "30ms", "--out", "/nonexistent-dir/x.csv"},
     {"--out", "/nonexistent-dir/x.csv"}},
    {"TimeseriesInMissingDirectory",
     {"-q", "mutex_cv", "-d", "30ms", "--timeseries", "/nonexistent-dir/ts.csv"},
     {"--timeseries", "/nonexistent-dir/ts.csv"}},
    {"UnknownOption", {"-q", "mutex_cv", "--frobnicate"}, {"--frobnicate"}},
    {"MissingQueue", {"-d", "30ms"}, {"--queue"}},
    {"OverwriteWithoutOut", {"-q", "mutex_cv", "--overwrite", "--out", ""}, {"--overwrite"}},
    {"SpscWithTwoProducers",
     {"-q", "boost_spsc+spin", "-p", "2", "-d", "30ms"},
     {"boost_spsc+spin", "producer"}},
    {"FanoutZero", {"-q", "mutex_cv", "-w", "tree", "--fanout", "0"}, {"--fanout", "'0'"}},
    {"DepthTooDeep", {"-q", "mutex_cv", "-w", "tree", "--depth", "25"}, {"--depth", "'25'"}},
    {"TreeTooLarge",
     {"-q", "mutex_cv", "-w", "tree", "--fanout", "64", "--depth", "5"},
     {"--depth", "--fanout 64", "2^24"}},
    {"KeysTooMany", {"-q", "mutex_cv", "--keys", "70000"}, {"--keys", "'70000'", "65536"}},
    {"TreeOnASingleProducerQueue",
     {"-q", "boost_spsc+spin", "-w", "tree", "-d", "30ms"},
     {"boost_spsc+spin", "tree consumers push"}},
    {"LatencyUnknown", {"-q", "mutex_cv", "--latency", "maybe"}, {"--latency", "'maybe'"}},
    {"PingpongWithTwoProducers",
     {"-q", "mutex_cv", "-w", "pingpong", "-p", "2", "-n", "100"},
     {"--producers", "pingpong runs one client and one server"}},
    {"LatencyOffOnPingpong",
     {"-q", "mutex_cv", "-w", "pingpong", "--latency", "off", "-n", "100"},
     {"--latency off is for flood and tree"}},
    {"ConfigFileMissing",
     {"-q", "mutex_cv", "-d", "30ms", "--config", "/nonexistent-dir/qbench.toml"},
     {"/nonexistent-dir/qbench.toml"}},
};

INSTANTIATE_TEST_SUITE_P(Cli, QbenchBadInput, ::testing::ValuesIn(kBadInputs),
                         [](const auto& info) { return std::string(info.param.name); });

// Every option of the table (harness/run_options.hpp) that takes a value refuses a bad one the
// same way, file and directory names excepted.
TEST_F(QbenchCli, ABadValueOfEveryOptionExitsTwoWithOneLineNamingTheFlag) {
  for (const qb::cli::RunOption& opt : qb::cli::run_options()) {
    if (!opt.text || opt.placeholder == "FILE" || opt.placeholder == "DIR") continue;
    std::vector<std::string> args = {"run", "--out", dir_ / "out.csv", opt.name(), "bogus"};
    if (!opt.required) args.insert(args.begin() + 1, {"-q", "mutex_cv"});
    const Outcome o = qbench(args);
    EXPECT_EQ(o.code, 2) << opt.name() << ": " << describe(o);
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_EQ(o.err.rfind("qbench: " + opt.name() + ": ", 0), 0u) << o.err;
    EXPECT_NE(o.err.find("'bogus'"), std::string::npos) << o.err;
    EXPECT_TRUE(entries().empty()) << opt.name() << " left " << entries().front();
  }
}

// --help names what each option takes and shows its default: COUNT=1, not TEXT.
TEST_F(QbenchCli, RunHelpShowsTypedPlaceholdersAndDefaults) {
  const Outcome o = qbench({"run", "--help"});
  ASSERT_EQ(o.code, 0) << describe(o);
  EXPECT_EQ(o.out.find("TEXT"), std::string::npos) << o.out;
  for (const char* shown :
       {"-q,--queue QUEUE REQUIRED", "-p,--producers COUNT=1", "-r,--rate RATE=100k",
        "-d,--duration DURATION=1s", "--reps COUNT=5", "--warmup COUNT=1",
        "--backpressure POLICY=block", "--out FILE", "--shard K/N"})
    EXPECT_NE(o.out.find(shown), std::string::npos) << shown << " not in:\n" << o.out;
  for (const qb::cli::RunOption& opt : qb::cli::run_options())
    EXPECT_NE(o.out.find(opt.name()), std::string::npos) << opt.name();
  EXPECT_TRUE(entries().empty());
}

// Every subcommand's --help: placeholders that say what an option takes (never CLI11's generic
// TEXT, INT, UINT or FLOAT), and no example in a help line that contradicts the default the line
// shows (as "-d,--duration DURATION=2s  run length: 5s" once did).
TEST_F(QbenchCli, EveryHelpHasTypedPlaceholdersAndNoExampleContradictsItsDefault) {
  const std::regex generic(R"(\b(TEXT|INT|UINT|FLOAT)\b)");
  const std::regex option(R"(^\s+(-\S+|[a-z]\S*) ([A-Z/]+)(=(\S+))?\s*(.*)$)");
  const std::regex example(R"(: (\S+)$)");
  for (const char* sub :
       {"run", "bare", "compare", "calibrate", "merge", "suite", "columns", "list"}) {
    const Outcome o = qbench({sub, "--help"});
    ASSERT_EQ(o.code, 0) << sub << ": " << describe(o);
    const auto lines = lines_of(o.out);
    std::size_t typed = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_FALSE(std::regex_search(lines[i], generic)) << sub << ": " << lines[i];
      std::smatch m;
      if (!std::regex_match(lines[i], m, option)) continue;
      ++typed;
      const std::string fallback = m[4], flag = m[1];
      std::string help = m[5];
      if (help.empty() && i + 1 < lines.size()) help = lines[i + 1];  // wrapped by CLI11
      std::smatch e;
      if (!fallback.empty() && std::regex_search(help, e, example)) {
        EXPECT_EQ(e[1].str(), fallback) << sub << " " << flag << ": the help line's example "
                                        << e[1] << " contradicts its default " << fallback;
      }
    }
    if (std::string(sub) != "columns" && std::string(sub) != "list") {
      EXPECT_GT(typed, 0u) << sub << ": no option line recognised in\n" << o.out;
    }
  }
  EXPECT_TRUE(entries().empty());
}

// --placement: built from this machine's topology, recorded, and refused where the machine has
// no such pair of CPUs (before anything runs).
TEST_F(QbenchCli, PlacementIsRecordedAndAMissingOneIsRefusedUpFront) {
  const qb::Topology t = qb::machine_topology();
  if (t.packages() < 2) {
    const Outcome o = qbench(once({"run", "-q", "mutex_cv", "-d", "30ms", "--placement",
                                   "spread,cross-socket", "--out", dir_ / "x.csv"}));
    EXPECT_EQ(o.code, 2) << describe(o);
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_EQ(o.err.rfind("qbench: --placement: cross-socket: the allowed CPUs have no", 0), 0u)
        << o.err;
    EXPECT_NE(o.err.find(t.describe()), std::string::npos) << o.err;
    EXPECT_TRUE(entries().empty());
  }
  bool same_socket = true;
  try {
    qb::plan_placement(1, 1, t, qb::Placement::same_socket);
  } catch (const qb::PlacementError&) {
    same_socket = false;
  }
  if (!same_socket) GTEST_SKIP() << "no two cores in one package here: " << t.describe();
  const Outcome o = qbench(once({"run", "-q", "mutex_cv", "-w", "flood", "-n", "2000",
                                 "--placement", "same-socket", "--out", dir_ / "p.csv"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "p.csv");
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.at(0, "placement"), "same-socket");  // and pinned, without --pin
  EXPECT_EQ(c.at(0, "pinning"),
            qb::describe(qb::plan_placement(1, 1, t, qb::Placement::same_socket)));
  EXPECT_EQ(c.at(0, "topology"), t.describe());
}

// A directory is no CSV file: refused before anything runs (exit 2), not after the first run.
TEST_F(QbenchCli, OutNamingADirectoryIsRefusedUpFront) {
  fs::create_directory(dir_ / "sub");
  const Outcome o = qbench({"run", "-q", "mutex_cv", "-d", "30ms", "--out", "sub"});
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("--out"), std::string::npos) << o.err;
  EXPECT_EQ(entries(), std::vector<std::string>{"sub"});
  EXPECT_TRUE(fs::is_empty(dir_ / "sub"));
}

// The same file for results and time series would have one clobber the other at each commit.
TEST_F(QbenchCli, SameFileForOutAndTimeseriesIsRefused) {
  const Outcome o =
      qbench({"run", "-q", "mutex_cv", "-d", "30ms", "--out", "r.csv", "--timeseries", "r.csv"});
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("--timeseries"), std::string::npos) << o.err;
  EXPECT_TRUE(entries().empty());
}

// ---- Good input ---------------------------------------------------------------------------

TEST_F(QbenchCli, ListNamesEveryQueueFamily) {
  const Outcome o = qbench({"list"});
  ASSERT_EQ(o.code, 0) << describe(o);
  for (const char* q :
       {"mutex_cv", "mutex_cv_one", "split_cv", "moodycamel_blocking", "mutex_deque+spin",
        "mutex_deque+park", "boost_lockfree+spin", "boost_spsc+spin", "boost_spsc+park",
        "moodycamel+spin", "moodycamel+park", "ws_pool"}) {
    EXPECT_NE(o.out.find(std::string("  ") + q + " "), std::string::npos) << q << " not in:\n"
                                                                          << o.out;
  }
  for (const char* w : {"steady", "burst", "flood"})
    EXPECT_NE(o.out.find(w), std::string::npos) << w;
  EXPECT_TRUE(o.err.empty()) << o.err;
  EXPECT_TRUE(entries().empty());
}

TEST_F(QbenchCli, TinyRunWritesOneOkRowAndASecondRunAppends) {
  const std::vector<std::string> args =
      once({"run", "-q", "mutex_cv", "-w", "flood", "-d", "50ms", "--out", "F.csv"});
  Outcome o = qbench(args);
  ASSERT_EQ(o.code, 0) << describe(o);
  EXPECT_NE(o.out.find("F.csv"), std::string::npos) << o.out;
  Csv c = read_csv(dir_ / "F.csv");
  EXPECT_EQ(lines_of(slurp(dir_ / "F.csv")).front(), qb::csv_header());
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.at(0, "schema_version"), std::to_string(qb::csv_schema_version));
  EXPECT_EQ(c.at(0, "verdict"), "ok");
  EXPECT_EQ(c.at(0, "queue"), "mutex_cv");
  EXPECT_EQ(c.at(0, "workload"), "flood");
  EXPECT_EQ(c.at(0, "duration_s"), "0.05");
  EXPECT_EQ(c.at(0, "rep"), "0");
  EXPECT_EQ(c.at(0, "rate_per_s"), "");  // flood: not applicable
  EXPECT_EQ(entries(), std::vector<std::string>{"F.csv"});

  o = qbench(args);
  ASSERT_EQ(o.code, 0) << describe(o);
  EXPECT_NE(o.out.find("appended"), std::string::npos) << o.out;
  c = read_csv(dir_ / "F.csv");
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.at(1, "verdict"), "ok");
  EXPECT_NE(c.at(0, "run_id"), c.at(1, "run_id"));
  EXPECT_EQ(entries(), std::vector<std::string>{"F.csv"});
}

TEST_F(QbenchCli, LatencyOnAndOffPrintTheHarnessCostAndPingpongWritesRoundTrips) {
  const Outcome o = qbench(once({"run", "-q", "ring_spsc+spin", "-w", "flood,pingpong", "-n",
                                 "20000", "--latency", "on,off", "--pin", "--out", "F.csv"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  EXPECT_NE(o.out.find("harness cost"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("ring_spsc+spin flood 1x1 capacity 1024: on "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("recording costs"), std::string::npos) << o.out;
  EXPECT_NE(o.err.find("--latency off is for flood and tree"), std::string::npos) << o.err;
  const Csv c = read_csv(dir_ / "F.csv");
  ASSERT_EQ(c.rows.size(), 3u) << "flood on, flood off, pingpong on";
  EXPECT_EQ(c.at(0, "latency_recording"), "on");
  EXPECT_NE(c.at(0, "latency_p50_ns"), "");
  EXPECT_EQ(c.at(1, "latency_recording"), "off");
  EXPECT_EQ(c.at(1, "latency_p50_ns"), "") << "nothing recorded, nothing reported";
  EXPECT_NE(c.at(1, "throughput_per_s"), "");
  EXPECT_EQ(c.at(2, "workload"), "pingpong");
  EXPECT_EQ(c.at(2, "consumed"), "20000");
  EXPECT_NE(c.at(2, "latency_p50_ns"), "");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.at(i, "verdict"), "ok");
    EXPECT_NE(c.at(i, "pinning").find("p0:"), std::string::npos) << c.at(i, "pinning");
    EXPECT_EQ(c.at(i, "floor_rtt_p50_ns"), "") << "not calibrated";
  }
}

// --calibrate: every flood and pingpong row carries the bare reference run right after it (one
// per row: the figures differ from row to row) and its fidelity; the console sums them up.
TEST_F(QbenchCli, CalibrateGivesEveryRowItsOwnBareReferenceAndFidelity) {
  const Outcome o = qbench({"run", "-q", "ring_spsc+spin", "-w", "flood,pingpong", "-d", "50ms",
                            "--reps", "3", "--warmup", "0", "--calibrate", "--out", "F.csv"});
  ASSERT_EQ(o.code, 0) << describe(o);
  EXPECT_NE(o.out.find("fidelity (--calibrate"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("ring_spsc+spin flood 1x1 capacity 1024, latency on: "), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find(", 3 runs)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(", 3 runs); depth "), std::string::npos) << o.out;
  const Csv c = read_csv(dir_ / "F.csv");
  ASSERT_EQ(c.rows.size(), 6u);
  std::set<std::string> flood_bare;
  for (std::size_t i = 0; i < 6; ++i) {
    const bool flood = c.at(i, "workload") == "flood";
    const std::string bare = c.at(i, flood ? "bare_items_per_s" : "bare_rtt_p50_ns");
    ASSERT_NE(bare, "") << "row " << i;
    EXPECT_GT(std::stod(bare), 0) << "row " << i;
    EXPECT_GT(std::stod(c.at(i, "fidelity")), 0) << "row " << i;
    if (flood) flood_bare.insert(bare);
    // The regime of each: a flood's depth within the capacity and the threads' publishing
    // batches (64 items in the run, 1024 in the reference); pingpong's is its one item.
    ASSERT_NE(c.at(i, "median_depth"), "") << "row " << i;
    if (flood) {
      EXPECT_LE(std::stoull(c.at(i, "median_depth")), 1024u + 2 * 64) << "row " << i;
      ASSERT_NE(c.at(i, "bare_median_depth"), "") << "row " << i;
      EXPECT_LE(std::stoull(c.at(i, "bare_median_depth")), 1024u + 2 * 1024) << "row " << i;
    } else {
      EXPECT_EQ(c.at(i, "median_depth"), "1") << "row " << i;
      EXPECT_EQ(c.at(i, "bare_median_depth"), "") << "row " << i;
    }
  }
  EXPECT_EQ(flood_bare.size(), 3u) << "one bare run per row, not one figure per configuration";
}

TEST_F(QbenchCli, ForeignSchemaIsRefusedUnlessOverwrite) {
  const fs::path f = dir_ / "F.csv";
  const std::string foreign = "a,b,c\n1,2,3\n";
  write_file(f, foreign);
  Outcome o = qbench(once({"run", "-q", "mutex_cv", "-d", "30ms", "--out", "F.csv"}));
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("--out"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--overwrite"), std::string::npos) << o.err;
  EXPECT_EQ(slurp(f), foreign);
  EXPECT_EQ(entries(), std::vector<std::string>{"F.csv"});

  o = qbench(once({"run", "-q", "mutex_cv", "-d", "30ms", "--out", "F.csv", "--overwrite"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(f);
  EXPECT_EQ(c.header.size(), qb::csv_columns().size());
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.at(0, "verdict"), "ok");
  EXPECT_EQ(entries(), std::vector<std::string>{"F.csv"});
}

TEST_F(QbenchCli, MatrixRunsEveryServableCombinationAndListsTheSkippedOne) {
  const Outcome o = qbench(
      once({"run", "-q", "mutex_cv,boost_spsc+spin", "-p", "1,2", "-d", "30ms", "--out", "M.csv"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "M.csv");
  ASSERT_EQ(c.rows.size(), 3u);
  std::vector<std::string> combos;
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    combos.push_back(c.at(i, "queue") + " " + c.at(i, "producers") + "x" + c.at(i, "consumers"));
    EXPECT_EQ(c.at(i, "verdict"), "ok") << combos.back();
  }
  EXPECT_EQ(combos,
            (std::vector<std::string>{"mutex_cv 1x1", "mutex_cv 2x1", "boost_spsc+spin 1x1"}));
  EXPECT_NE(o.err.find("skipped boost_spsc+spin flood 2x1"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("1 combination(s) skipped"), std::string::npos) << o.err;
}

// An option some runs of a mixed matrix read is fine: the others ignore it, as --help says.
TEST_F(QbenchCli, AnOptionThatSomeRunsReadIsAccepted) {
  const Outcome o = qbench(once({"run", "-q", "mutex_cv", "-w", "flood,steady", "-r", "20k", "-d",
                                 "30ms", "--out", "M.csv", "--quiet"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "M.csv");
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.at(1, "workload"), "steady");
  EXPECT_EQ(c.at(1, "rate_per_s"), "20000");
}

// --quiet without --out would run and throw the results away: refused before anything runs.
TEST_F(QbenchCli, QuietWithoutOutIsRefused) {
  const Outcome o = qbench({"run", "-q", "mutex_cv", "-d", "30ms", "--quiet"});
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(lines_of(o.err).size(), 1u) << o.err;
  EXPECT_NE(o.err.find("--quiet"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--out"), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
  EXPECT_TRUE(entries().empty());
}

TEST_F(QbenchCli, WarmupRunsAreNotReported) {
  const Outcome o = qbench({"run", "-q", "mutex_cv", "-d", "30ms", "--warmup", "1", "--reps", "2",
                            "--out", "W.csv", "--quiet"});
  ASSERT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(o.out.empty()) << "--quiet:\n" << o.out;
  const Csv c = read_csv(dir_ / "W.csv");
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.at(0, "rep"), "0");
  EXPECT_EQ(c.at(1, "rep"), "1");
}

// `qbench run --config FILE`: options of the run subcommand in a TOML/INI file, under a [run]
// section (the layout CLI11 2.1 uses for a subcommand's options); the command line wins.
// A run's memory is its own: the same configuration first and last in one invocation, with a
// run between them that grows an unbounded queue by tens of MiB and frees it, reports the same
// peak growth over its baseline (within 2 MiB), although the process's absolute peak may not.
TEST_F(QbenchCli, PeakMemoryOfARunDoesNotDependOnItsPlaceInTheMatrix) {
#ifdef QB_SANITIZER_BUILD
  GTEST_SKIP() << "a sanitizer's allocator keeps freed memory in quarantine: the resident set "
                  "is the sanitizer's, not the run's";
#endif
  const Outcome o = qbench({"run",        "-q",        "mutex_cv,mutex_deque+park,mutex_cv",
                            "-w",         "flood",     "-p",
                            "2",          "-c",        "1",
                            "--capacity", "unbounded", "-n",
                            "400k",       "--work",    "fixed:1us",
                            "--reps",     "1",         "--warmup",
                            "0",          "--out",     "R.csv",
                            "--quiet"});
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "R.csv");
  ASSERT_EQ(c.rows.size(), 3u);
  const auto growth = [&](std::size_t i) { return std::stod(c.at(i, "peak_rss_growth_bytes")); };
  const double mib = 1 << 20;
  // The runs held their items in memory: each grows by more than the margin checked below.
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_GT(std::stod(c.at(i, "peak_depth")), 100'000) << "row " << i;
    EXPECT_GT(growth(i), 4 * mib) << "row " << i;
    EXPECT_LE(std::stod(c.at(i, "rss_baseline_bytes")), std::stod(c.at(i, "peak_rss_bytes")));
  }
  EXPECT_NEAR(growth(2), growth(0), 2 * mib)
      << "first " << growth(0) / mib << " MiB, last " << growth(2) / mib << " MiB";
}

// --item-bytes: each size a row of its own, with its size; 8-byte items carry no time, so their
// flood records no latency (the row says so), while a pingpong round trip is timed at any size.
TEST_F(QbenchCli, ItemBytesRunEachSizeAndRecordIt) {
  const Outcome o =
      qbench({"run", "-q", "ring_mpmc+spin", "-w", "flood,pingpong", "--item-bytes", "8,256", "-n",
              "20k", "--reps", "1", "--warmup", "0", "--out", "S.csv"});
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "S.csv");
  ASSERT_EQ(c.rows.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.at(i, "verdict"), "ok") << i;
    const bool flood = c.at(i, "workload") == "flood", small = c.at(i, "item_bytes") == "8";
    EXPECT_TRUE(small || c.at(i, "item_bytes") == "256") << i;
    EXPECT_EQ(c.at(i, "latency_recording"), flood && small ? "off" : "on") << i;
    EXPECT_EQ(c.at(i, "latency_p50_ns").empty(), flood && small) << i;
  }
  EXPECT_NE(o.out.find("item-bytes"), std::string::npos) << "a column of its own:\n" << o.out;
}

// Saturation is not correctness: a paced run whose consumers cannot keep up passes (verdict ok,
// exit 0) but is marked as behind in its row and on the console; one that keeps up is marked so.
TEST_F(QbenchCli, APacedRunThatFallsBehindIsMarkedButPasses) {
  const Outcome o =
      qbench({"run", "-q", "mutex_cv", "-w", "steady", "-r", "5k,200k", "--work", "fixed:20us",
              "-d", "200ms", "--reps", "1", "--warmup", "0", "--out", "K.csv"});
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "K.csv");
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.at(0, "verdict"), "ok");
  EXPECT_EQ(c.at(0, "kept_up"), "1") << "5k/s of 20 us items: 10% of a consumer";
  EXPECT_EQ(c.at(1, "verdict"), "ok");
  EXPECT_EQ(c.at(1, "kept_up"), "0") << "200k/s of 20 us items: 4 consumers' worth";
  EXPECT_NEAR(std::stod(c.at(1, "offered_per_s")), 200'000, 2'000);
  EXPECT_LT(std::stod(c.at(1, "throughput_per_s")), 0.5 * 200'000);
  EXPECT_NE(o.out.find("BEHIND"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("fell BEHIND the offered load"), std::string::npos) << o.out;
  // The rate varies, so it has a console column of its own.
  EXPECT_NE(o.out.find("200k"), std::string::npos) << o.out;
}

// The console: one line per configuration with the median and range of its repetitions, a
// relative summary for the queues asked the same question, and the options that vary as columns.
TEST_F(QbenchCli, ConsoleShowsOneLinePerConfigurationWithSpreadAndASummary) {
  const Outcome o = qbench({"run", "-q", "mutex_cv,split_cv", "-w", "steady", "-b", "block,drop",
                            "-d", "40ms", "--reps", "4", "--warmup", "0"});
  ASSERT_EQ(o.code, 0) << describe(o);
  std::vector<std::string> config_lines;
  for (const std::string& l : lines_of(o.out))
    if (l.rfind("mutex_cv ", 0) == 0 || l.rfind("split_cv ", 0) == 0) config_lines.push_back(l);
  ASSERT_EQ(config_lines.size(), 4u) << o.out;  // 2 queues x 2 policies, not 16 repetitions
  for (const std::string& l : config_lines) {
    EXPECT_NE(l.find(" ["), std::string::npos) << "a range: " << l;
    EXPECT_TRUE(l.find("block") != std::string::npos || l.find("drop") != std::string::npos)
        << "the varying option's value: " << l;
  }
  EXPECT_NE(o.out.find("backpressure"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("summary per question"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("split_cv: p99 "), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(" of mutex_cv's"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("one repetition per configuration"), std::string::npos) << o.out;

  const Outcome one = qbench(
      {"run", "-q", "mutex_cv", "-w", "steady", "-d", "30ms", "--reps", "1", "--warmup", "0"});
  ASSERT_EQ(one.code, 0) << describe(one);
  EXPECT_NE(one.out.find("one repetition per configuration"), std::string::npos) << one.out;
}

TEST_F(QbenchCli, ConfigFileWithRunSectionSetsOptions) {
  write_file(root_ / "qbench.toml", "[run]\nqueue = \"split_cv\"\nduration = \"50ms\"\n");
  const Outcome o = qbench(once({"run", "--config", root_ / "qbench.toml", "--out", "C.csv"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "C.csv");
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.at(0, "queue"), "split_cv");
  EXPECT_EQ(c.at(0, "duration_s"), "0.05");
  EXPECT_EQ(c.at(0, "verdict"), "ok");
}

TEST_F(QbenchCli, CommandLineOverridesConfigFile) {
  write_file(root_ / "qbench.toml", "[run]\nqueue = \"split_cv\"\nduration = \"1s\"\n");
  const Outcome o =
      qbench(once({"run", "--config", root_ / "qbench.toml", "-d", "30ms", "--out", "C.csv"}));
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "C.csv");
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.at(0, "queue"), "split_cv");
  EXPECT_EQ(c.at(0, "duration_s"), "0.03");
}

// A misspelt key must not be ignored silently: that run would not be the one asked for.
TEST_F(QbenchCli, ConfigFileWithUnknownKeyIsRefused) {
  write_file(root_ / "qbench.toml", "[run]\nqueue = \"split_cv\"\ndurration = \"30ms\"\n");
  const Outcome o = qbench(once({"run", "--config", root_ / "qbench.toml", "--out", "C.csv"}));
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("durration"), std::string::npos) << o.err;
  EXPECT_TRUE(entries().empty());
}

}  // namespace

// ---- Runs that end early still leave a valid file and a non-zero exit -------------------------

TEST_F(QbenchCli, StalledRunWritesItsRowMarkedStalledAndExitsNonZero) {
  // mutex_cv_one at capacity 1 with two consumers deadlocks (queues/mutex_cv_one.hpp); the
  // watchdog must end it and the row must say so. Retried: the deadlock depends on scheduling.
  bool stalled = false;
  for (int attempt = 0; attempt < 5 && !stalled; ++attempt) {
    const Outcome o =
        qbench(once({"run", "-q", "mutex_cv_one", "-p", "1", "-c", "2", "--capacity", "1", "-d",
                     "3s", "--stall-timeout", "300ms", "--out", "S.csv", "--overwrite"}));
    const Csv c = read_csv(dir_ / "S.csv");
    ASSERT_EQ(c.rows.size(), 1u) << describe(o);
    stalled = c.at(0, "verdict") == "stalled";
    if (stalled) {
      EXPECT_EQ(o.code, 1) << describe(o);
      EXPECT_NE(c.at(0, "verdict_detail").find("nothing consumed"), std::string::npos);
      EXPECT_NE(o.out.find("stalled"), std::string::npos) << o.out;
    }
  }
  EXPECT_TRUE(stalled) << "mutex_cv_one did not deadlock in 5 runs";
}

TEST_F(QbenchCli, CtrlCKeepsFinishedRowsAndTheFileStaysValid) {
  // SIGINT 1.5 s into a matrix of 1 s runs: the first run is finished, the second is cut short.
  std::string cmd =
      "cd " + shell_quote(dir_) + " && timeout --preserve-status -s INT 1.5 " +
      shell_quote(QBENCH_BIN) +
      " run -q mutex_cv,split_cv,moodycamel+park -d 1s --reps 1 --warmup 0 --out C.csv >" +
      shell_quote(root_ / "stdout") + " 2>" + shell_quote(root_ / "stderr") + " </dev/null";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(root_ / "stderr");
  const Csv c = read_csv(dir_ / "C.csv");  // also checks every row is complete
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(c.at(0, "verdict"), "ok");
  EXPECT_EQ(c.at(1, "verdict"), "interrupted");
  EXPECT_EQ(entries(), std::vector<std::string>{"C.csv"}) << "no temporary file left behind";
}

// ---- qbench suite ----------------------------------------------------------------------------

TEST_F(QbenchCli, SuiteListNamesTheSevenExperiments) {
  const Outcome o = qbench({"suite", "--list"});
  ASSERT_EQ(o.code, 0) << describe(o);
  for (const char* name :
       {"idle", "wakeups", "burst", "sizing", "shutdown", "stealing", "mailboxes"})
    EXPECT_NE(o.out.find(std::string("  ") + name + " "), std::string::npos) << name << " in:\n"
                                                                             << o.out;
  // Every suite plans some time, the ones whose runs end by an item count (stealing) too.
  EXPECT_EQ(o.out.find(" 0 s planned"), std::string::npos) << o.out;
  EXPECT_TRUE(entries().empty());
}

// Piped (a CI log), a matrix says its plan first, then one line per finished run as it ends.
TEST_F(QbenchCli, OffATerminalEachFinishedRunIsALineWithTheTimeLeft) {
  const Outcome o = qbench({"run", "-q", "mutex_cv,split_cv", "-d", "40ms", "--reps", "2",
                            "--warmup", "1", "--out", "P.csv", "--quiet"});
  ASSERT_EQ(o.code, 0) << describe(o);
  // A sanitizer build says so first; that line is not progress.
  std::vector<std::string> lines;
  for (const auto& l : lines_of(o.err))
    if (l.rfind("qbench: this is a ", 0) != 0) lines.push_back(l);
  ASSERT_EQ(lines.size(), 7u) << o.err;
  EXPECT_EQ(lines[0],
            "qbench: 6 runs (2 configuration(s) x 2 repetition(s) + 1 warm-up), about 0 s planned");
  EXPECT_EQ(lines[1].rfind("[1/6] mutex_cv flood 1x1 warm-up: ok; ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[3].rfind("[3/6] mutex_cv flood 1x1 rep 1: ok; ", 0), 0u) << lines[3];
  EXPECT_EQ(lines[6].rfind("[6/6] split_cv flood 1x1 rep 1: ok; ", 0), 0u) << lines[6];
  EXPECT_NE(lines[6].find("about 0 s left"), std::string::npos) << lines[6];
  // One run: no plan and no progress.
  const Outcome one =
      qbench(once({"run", "-q", "mutex_cv", "-d", "30ms", "--out", "Q.csv", "--quiet"}));
  ASSERT_EQ(one.code, 0) << describe(one);
  EXPECT_EQ(one.err.find("runs ("), std::string::npos) << one.err;
  EXPECT_EQ(one.err.find("[1/1]"), std::string::npos) << one.err;
}

TEST_F(QbenchCli, SuiteUnknownNameExitsTwoNamingTheKnownOnes) {
  const Outcome o = qbench({"suite", "idel"});
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("'idel'"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("idle"), std::string::npos) << o.err;
  EXPECT_TRUE(entries().empty());
}

class QbenchSuite : public QbenchCli {
 protected:
  void SetUp() override {
    QbenchCli::SetUp();
    suites_ = root_ / "suites";
    fs::create_directory(suites_);
  }
  void suite_file(const std::string& name, const std::string& text) const {
    write_file(suites_ / (name + ".suite"), text);
  }
  [[nodiscard]] Outcome suite(const std::string& name, const std::string& out = "out") const {
    return qbench(
        {"suite", name, "--suites-dir", suites_, "--no-report", "--quiet", "--out", dir_ / out});
  }
  fs::path suites_;
};

TEST_F(QbenchSuite, ABadStepIsRefusedWithFileAndLineBeforeAnythingRuns) {
  suite_file("bad", "title: t\nrun: -q mutex_cv -d 30ms\n# comment\nrun: -q mutex_cvv -d 30ms\n");
  const Outcome o = suite("bad");
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_NE(o.err.find("bad.suite:4:"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("mutex_cvv"), std::string::npos) << o.err;
  EXPECT_TRUE(entries().empty()) << "nothing may be written: " << entries().front();
}

TEST_F(QbenchSuite, AStepMayNotChooseItsOwnOutputs) {
  suite_file("owned", "title: t\nrun: -q mutex_cv -d 30ms --out x.csv\n");
  const Outcome o = suite("owned");
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_NE(o.err.find("owned.suite:2:"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--out"), std::string::npos) << o.err;
  suite_file("noverdict", "title: t\nrun allow=failed: -q mutex_cv -d 30ms\n");
  EXPECT_EQ(suite("noverdict").code, 2);
  suite_file("notitle", "run: -q mutex_cv -d 30ms\n");
  EXPECT_EQ(suite("notitle").code, 2);
  EXPECT_TRUE(entries().empty());
}

TEST_F(QbenchSuite, StepsShareOneCsvAndAnExpectedVerdictDoesNotFailTheSuite) {
  // Step 2 hits the memory cap on purpose: an unbounded queue under a flood with slow consumers.
  const std::string cap_step =
      "-q mutex_cv -w flood --capacity unbounded --work fixed:10us --max-rss 32M -d 3s";
  suite_file("mini",
             "title: a small suite\nclaim: c\nrun: -q mutex_cv,split_cv -d 50ms\n"
             "run allow=memory_cap: " +
                 cap_step + "\n");
  Outcome o = suite("mini");
  ASSERT_EQ(o.code, 0) << describe(o);
  const Csv c = read_csv(dir_ / "out" / "results.csv");
  ASSERT_EQ(c.rows.size(), 3u);
  EXPECT_EQ(c.at(0, "verdict"), "ok");
  EXPECT_EQ(c.at(1, "verdict"), "ok");
  EXPECT_EQ(c.at(2, "verdict"), "memory_cap");
  const std::set<std::string> ids = {c.at(0, "run_id"), c.at(1, "run_id"), c.at(2, "run_id")};
  EXPECT_EQ(ids.size(), 3u) << "run ids must be unique across steps";
  EXPECT_TRUE(fs::exists(dir_ / "out" / "timeseries.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "mini.suite"));
  // A second run into the same directory is refused rather than mixed in.
  o = suite("mini");
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_NE(o.err.find("results.csv"), std::string::npos) << o.err;

  // The same step without allow= fails the suite (exit 1), its row still written.
  suite_file("strict", "title: t\nrun: " + cap_step + "\n");
  o = suite("strict", "strict");
  EXPECT_EQ(o.code, 1) << describe(o);
  const Csv s = read_csv(dir_ / "strict" / "results.csv");
  ASSERT_EQ(s.rows.size(), 1u);
  EXPECT_EQ(s.at(0, "verdict"), "memory_cap");
}
