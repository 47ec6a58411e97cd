// `qbench compare`: the statistics against values known by hand, the results-file reader's header
// policy, and the real binary (QBENCH_BIN) on results files whose right answer is known. The
// files are generated here from qb::csv_columns(), so they follow the schema as it grows; the
// noise is seeded, so every run sees the same numbers.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "results/columns.hpp"
#include "results/compare.hpp"
#include "results/csv.hpp"
#include "results/csv_reader.hpp"
#include "tests/file_support.hpp"

#ifndef QBENCH_BIN
#error "QBENCH_BIN must name the qbench executable"
#endif

namespace {

namespace fs = std::filesystem;

// ---- Results files made to order ------------------------------------------------------------

struct FakeRun {
  std::string queue = "mutex_cv";
  std::string workload = "steady";
  int producers = 1, consumers = 1;
  int rep = 0;
  double throughput = 1e6;
  double p99_ns = 50'000;
  double cpu_ns_per_item = 800;
  std::string verdict = "ok";
  std::string host = "ci-1";
  bool by_items = false;  // ended by --items instead of --duration
  std::string shard;      // "K/N" for a part of a sharded sweep
};

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// One row of the real schema: every column filled the way qbench fills it for this shape.
qb::CsvRow row_of(const FakeRun& r) {
  const auto& cols = qb::csv_columns();
  std::map<std::string, std::string, std::less<>> f;
  const bool paced = r.workload != "flood";
  f["schema_version"] = std::to_string(qb::csv_schema_version);
  f["run_id"] = "20250101T000000Z-1-" + std::to_string(r.rep);
  f["timestamp"] = "2025-01-01T00:00:00Z";
  f["qbench_version"] = "0.1.0";
  f["git_sha"] = "abc123";
  f["host"] = r.host;
  f["cpu_model"] = "Test CPU, with a comma";
  f["cores"] = "2";
  f["memory_bytes"] = "4000000000";
  f["kernel"] = "Linux 6.1";
  f["compiler"] = "GNU 12.2.0";
  f["build_type"] = "Release";
  f["sanitizer"] = "";
  f["clock"] = "tsc";
  f["clock_cost_ns"] = "7.5";
  f["queue"] = r.queue;
  f["queue_order"] = "fifo";
  f["queue_bound"] = "exact";
  f["queue_progress"] = "blocking";
  f["workload"] = r.workload;
  f["producers"] = std::to_string(r.producers);
  f["consumers"] = std::to_string(r.consumers);
  f["oversubscribed"] = r.producers + r.consumers > 2 ? "1" : "0";
  f["capacity"] = "1024";
  f["rate_per_s"] = paced ? "100000" : "";
  f["gaps"] = paced ? "fixed" : "";
  f["service"] = "none";
  f["backpressure"] = "block";
  f["duration_s"] = r.by_items ? "" : "2";
  f["items_target"] = r.by_items ? "1000000" : "";
  f["stall_timeout_s"] = "5";
  f["max_rss_bytes"] = "2000000000";
  f["rep"] = std::to_string(r.rep);
  f["seed"] = "1";
  f["verdict"] = r.verdict;
  f["verdict_detail"] = r.verdict == "ok" ? "" : "no item consumed for 5s, \"stuck\"\nin push";
  f["elapsed_s"] = "2";
  f["consumed"] = num(std::round(r.throughput * 2));
  f["checksum_ok"] = "1";
  f["throughput_per_s"] = num(r.throughput);
  f["latency_p50_ns"] = num(r.p99_ns / 10);
  f["latency_p99_ns"] = num(r.p99_ns);
  f["lag_p99_ns"] = paced ? num(r.p99_ns / 2) : "";
  f["cpu_ns_per_item"] = num(r.cpu_ns_per_item);
  f["peak_depth"] = "17";
  f["pacing"] = paced ? "sleep" : "";
  f["cpu_pacing_s"] = paced ? "0.01" : "";
  f["shard"] = r.shard;
  // Unset: blank (not applicable) among the context and configuration, 0 among the outcomes.
  qb::CsvRow row;
  bool outcome = false;
  for (auto c : cols) {
    outcome = outcome || c == "verdict";
    auto it = f.find(c);
    row.push_back(it != f.end() ? it->second : outcome ? "0" : "");
  }
  return row;
}

std::string file_of(const std::vector<FakeRun>& runs) {
  std::string s = qb::csv_header() + "\n";
  for (const auto& r : runs)
    s += qb::csv_line(row_of(r)) + "\n";
  return s;
}

// Deterministic noise: a uniform value in [-1, 1) from a fixed 64-bit generator (splitmix64),
// identical on every standard library.
class Noise {
 public:
  explicit Noise(std::uint64_t seed) : s_(seed) {}
  double next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53 * 2 - 1;
  }

 private:
  std::uint64_t s_;
};

struct Level {
  const char* queue;
  double throughput, p99_ns;
};
const Level kLevels[] = {
    {"mutex_cv", 1.0e6, 60'000}, {"split_cv", 1.3e6, 45'000}, {"moodycamel+park", 3.1e6, 20'000}};

struct Shape {
  const char* workload;
  int producers, consumers;
};
const Shape kShapes[] = {{"steady", 1, 1}, {"flood", 1, 1}, {"flood", 2, 2}};

// Every queue x shape, `reps` repetitions, each metric off its level by +-`noise` (uniform).
// `edit` may change a run after the noise (inject a regression, a failure, a slower machine).
std::vector<FakeRun> matrix(std::uint64_t seed, int reps, double noise = 0.03,
                            const std::function<void(FakeRun&)>& edit = {}) {
  Noise n(seed);
  std::vector<FakeRun> runs;
  for (const Level& l : kLevels)
    for (const Shape& s : kShapes)
      for (int rep = 0; rep < reps; ++rep) {
        FakeRun r;
        r.queue = l.queue;
        r.workload = s.workload;
        r.producers = s.producers;
        r.consumers = s.consumers;
        r.rep = rep;
        const double k = s.producers == 2 ? 0.8 : 1.0;
        r.throughput = l.throughput * k * (1 + noise * n.next());
        r.p99_ns = l.p99_ns / k * (1 + noise * n.next());
        r.cpu_ns_per_item = 1e9 / l.throughput * (1 + noise * n.next());
        if (edit) edit(r);
        runs.push_back(r);
      }
  return runs;
}

bool is(const FakeRun& r, const char* queue, const char* workload, int p, int c) {
  return r.queue == queue && r.workload == workload && r.producers == p && r.consumers == c;
}

// ---- Running the binary ---------------------------------------------------------------------

using qb::test::shell_quote;
using qb::test::slurp;

struct Outcome {
  int code = -1;
  std::string out, err;
};

std::string describe(const Outcome& o) {
  return "exit " + std::to_string(o.code) + "\n--- stderr:\n" + o.err + "--- stdout:\n" + o.out;
}

class CompareCli : public ::testing::Test {
 protected:
  qb::test::ScratchDir scratch_{"qb_compare_test"};

  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p;
  }
  fs::path write(const std::string& name, const std::vector<FakeRun>& runs) const {
    return write(name, file_of(runs));
  }

  Outcome compare(const std::vector<std::string>& args) const { return qbench("compare", args); }
  Outcome qbench(const std::string& command, const std::vector<std::string>& args) const {
    std::string cmd = "timeout -k 5 60 ";
    cmd += shell_quote(QBENCH_BIN);
    cmd += " " + command;
    for (const auto& a : args) {
      cmd += ' ';
      cmd += shell_quote(a);
    }
    cmd += " >";
    cmd += shell_quote(dir_ / "stdout");
    cmd += " 2>";
    cmd += shell_quote(dir_ / "stderr");
    cmd += " </dev/null";
    const int status = std::system(cmd.c_str());
    Outcome o;
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = slurp(dir_ / "stdout");
    o.err = slurp(dir_ / "stderr");
    return o;
  }

  // Bad input: exit 2, one line on stderr holding every `needle`, nothing on stdout.
  void expect_bad_input(const Outcome& o, const std::vector<std::string>& needles) const {
    EXPECT_EQ(o.code, 2) << describe(o);
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << "one line:\n" << o.err;
    for (const auto& n : needles)
      EXPECT_NE(o.err.find(n), std::string::npos) << "'" << n << "' not in: " << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }

  fs::path dir_ = scratch_.path();
};

// The change column of a report line ("-31.3%" -> -31.3), or NaN.
double change_in(const std::string& line) {
  const auto pct = line.find('%');
  if (pct == std::string::npos) return std::nan("");
  const auto start = line.rfind(' ', pct) + 1;
  return std::stod(line.substr(start, pct - start));
}

// The line of the report that holds all of `parts`, or "".
std::string line_with(const std::string& text, const std::vector<std::string>& parts) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const auto& p) { return line.find(p) != std::string::npos; }))
      return line;
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- The statistics ------------------------------------------------------------------------

TEST(MannWhitney, SeparatedSamplesOfFiveExact) {
  // U = 0: the one ordering out of C(10, 5) = 252 as extreme on each side, p = 2/252.
  const auto r = qb::mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u_x, 0);
  EXPECT_DOUBLE_EQ(r.u_y, 25);
  EXPECT_NEAR(r.p, 0.0079365079, 1e-9);
  EXPECT_NEAR(qb::mann_whitney_u({6, 7, 8, 9, 10}, {1, 2, 3, 4, 5}).p, 2.0 / 252, 1e-12);
}

TEST(MannWhitney, InterleavedExact) {
  // x = 1,3,5 vs y = 2,4,6,8: ranks of x 1,3,5, U_x = 9 - 6 = 3, U_y = 9. Of the C(7,3) = 35
  // orderings, U <= 3 in 1+1+2+3 = 7 (partitions of 0..3 in at most 3 parts <= 4): p = 14/35.
  const auto r = qb::mann_whitney_u({1, 3, 5}, {2, 4, 6, 8});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u_x, 3);
  EXPECT_NEAR(r.p, 0.4, 1e-12);
}

// The exact p-value against a brute-force permutation test: every way to split the pooled
// values into groups of the original sizes, counting those whose U is at least as far from its
// mean as the observed one.
double brute_force_p(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> all = x;
  all.insert(all.end(), y.begin(), y.end());
  const std::size_t n = all.size(), k = x.size();
  auto u_of = [&](unsigned mask) {
    double u = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if ((mask >> i & 1) && !(mask >> j & 1) && all[i] > all[j]) u += 1;
    return u;
  };
  const double mean = static_cast<double>(x.size() * y.size()) / 2;
  const double observed = std::fabs(u_of((1u << k) - 1) - mean);
  double hits = 0, total = 0;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != k) continue;
    total += 1;
    if (std::fabs(u_of(mask) - mean) >= observed - 1e-9) hits += 1;
  }
  return hits / total;
}

TEST(MannWhitney, ExactMatchesBruteForce) {
  Noise n(42);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t nx = 1 + trial % 5, ny = 1 + (trial / 5) % 6;
    std::vector<double> x, y;
    for (std::size_t i = 0; i < nx; ++i)
      x.push_back(n.next() * 100);
    for (std::size_t i = 0; i < ny; ++i)
      y.push_back(n.next() * 100 + (trial % 3) * 30);  // some shifted, some not
    const auto r = qb::mann_whitney_u(x, y);
    ASSERT_TRUE(r.exact);
    EXPECT_NEAR(r.p, brute_force_p(x, y), 1e-12) << "trial " << trial;
  }
}

TEST(MannWhitney, TiesUseTheNormalApproximation) {
  // x = 1,2,2,3 vs y = 2,3,4,4,5 (small, but tied: scipy's 'auto' goes asymptotic).
  // Pooled ranks: 1 -> 1; the three 2s -> 3; the two 3s -> 5.5; the two 4s -> 7.5; 5 -> 9.
  // R_x = 1 + 3 + 3 + 5.5 = 12.5, U_x = 12.5 - 4*5/2 = 2.5, U_y = 17.5, mean 10.
  // Ties: t = 3, 2, 2, sum(t^3 - t) = 24 + 6 + 6 = 36, N = 9.
  // var = 4*5/12 * ((9 + 1) - 36 / (9*8)) = 20/12 * 9.5 = 15.8333.
  // z = (17.5 - 10 - 0.5) / sqrt(15.8333) = 1.759186; p = 2 * (1 - Phi(z)) = 0.0785459.
  const auto r = qb::mann_whitney_u({1, 2, 2, 3}, {2, 3, 4, 4, 5});
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u_x, 2.5);
  EXPECT_DOUBLE_EQ(r.u_y, 17.5);
  EXPECT_NEAR(r.p, 0.0785458509511907, 1e-9);
}

TEST(MannWhitney, LargeSamplesUseTheNormalApproximation) {
  // 9 vs 9 fully separated, no ties: U = 81, mean 40.5, var = 81 * 19 / 12,
  // z = (81 - 40.5 - 0.5) / sqrt(128.25) = 3.532086, p = 0.000412295.
  std::vector<double> x, y;
  for (int i = 0; i < 9; ++i) {
    x.push_back(100 + i);
    y.push_back(10 + i);
  }
  const auto r = qb::mann_whitney_u(x, y);
  EXPECT_FALSE(r.exact);
  EXPECT_NEAR(r.p, 0.0004122948020616911, 1e-12);
}

TEST(MannWhitney, IdenticalValuesAreNotDifferent) {
  EXPECT_DOUBLE_EQ(qb::mann_whitney_u({5, 5, 5}, {5, 5, 5, 5}).p, 1.0);
  EXPECT_DOUBLE_EQ(qb::mann_whitney_u({1}, {2}).p, 1.0);
  EXPECT_TRUE(std::isnan(qb::mann_whitney_u({}, {1, 2}).p));
}

TEST(MannWhitney, SmallestPossibleP) {
  EXPECT_NEAR(qb::min_two_sided_p(2, 2), 1.0 / 3, 1e-12);  // never below 0.05
  EXPECT_NEAR(qb::min_two_sided_p(3, 3), 0.1, 1e-12);
  EXPECT_NEAR(qb::min_two_sided_p(3, 4), 2.0 / 35, 1e-12);
  EXPECT_NEAR(qb::min_two_sided_p(4, 4), 2.0 / 70, 1e-12);
  EXPECT_NEAR(qb::min_two_sided_p(5, 5), 2.0 / 252, 1e-12);
  EXPECT_DOUBLE_EQ(qb::min_two_sided_p(1, 1), 1.0);
  EXPECT_DOUBLE_EQ(qb::min_two_sided_p(0, 5), 1.0);
  // And it is reached: the separated samples give exactly that p.
  EXPECT_NEAR(qb::mann_whitney_u({1, 2, 3}, {4, 5, 6, 7}).p, qb::min_two_sided_p(3, 4), 1e-12);
}

TEST(Statistics, Median) {
  EXPECT_DOUBLE_EQ(qb::median_of({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(qb::median_of({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(qb::median_of({7}), 7);
  EXPECT_TRUE(std::isnan(qb::median_of({})));
}

TEST(Statistics, MetricDirections) {
  using qb::Better;
  EXPECT_EQ(qb::metric_better("throughput_per_s"), Better::higher);
  EXPECT_EQ(qb::metric_better("some_new_rate_per_s"), Better::higher);
  EXPECT_EQ(qb::metric_better("consumed"), Better::higher);
  for (const char* m :
       {"latency_p99_ns", "latency_max_ns", "sojourn_p99_ns", "lag_p99_ns", "cpu_ns_per_item",
        "cpu_cores_busy", "cpu_user_s", "peak_rss_bytes", "peak_depth", "wakeups", "wasted_wakeups",
        "rejected", "dropped", "involuntary_switches", "a_column_nobody_knows"})
    EXPECT_EQ(qb::metric_better(m), Better::lower) << m;
}

// ---- The reader ----------------------------------------------------------------------------

qb::ResultsTable read(const std::string& text) {
  std::istringstream in(text);
  return qb::read_results(in, "mem.csv");
}

std::string read_error(const std::string& text) {
  try {
    read(text);
  } catch (const qb::ReadError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(ResultsReader, ReadsWhatQbenchWrites) {
  FakeRun failed;
  failed.verdict = "stalled";  // its detail holds a comma, quotes and a newline
  const auto t = read(file_of({FakeRun{}, failed}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.columns.size(), qb::csv_columns().size());
  EXPECT_EQ(t.at(1, *t.column("verdict")), "stalled");
  EXPECT_EQ(t.at(1, *t.column("verdict_detail")), "no item consumed for 5s, \"stuck\"\nin push");
  EXPECT_EQ(t.at(0, *t.column("cpu_model")), "Test CPU, with a comma");
  EXPECT_EQ(t.line[1], 3u);
}

TEST(ResultsReader, OlderFileWithoutTheAddedColumnsReadsThemBlank) {
  // Schema v1 as first released ended at peak_depth; pacing and cpu_pacing_s came later.
  const auto& cols = qb::csv_columns();
  const auto end = std::find(cols.begin(), cols.end(), "peak_depth") + 1;
  const auto kept = static_cast<std::size_t>(end - cols.begin());
  std::string header;
  for (std::size_t i = 0; i < kept; ++i) {
    if (i) header += ',';
    header += cols[i];
  }
  auto fields = row_of(FakeRun{});
  fields.resize(kept);
  const std::string row = qb::csv_line(fields);
  const auto t = read(header + "\n" + row + "\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.known_in_file, kept);
  EXPECT_EQ(t.at(0, *t.column("pacing")), "");
  EXPECT_EQ(t.at(0, *t.column("throughput_per_s")), "1000000");
  // One column fewer than that is not schema v1.
  const auto cut = header.substr(0, header.rfind(','));
  const auto cut_row = row.substr(0, row.rfind(','));
  EXPECT_NE(read_error(cut + "\n" + cut_row + "\n").find("another CSV schema"), std::string::npos);
}

TEST(ResultsReader, NewerFileWithExtraColumnsKeepsThem) {
  const auto t =
      read(qb::csv_header() + ",future_per_s\n" + qb::csv_line(row_of(FakeRun{})) + ",42\n");
  ASSERT_EQ(t.rows.size(), 1u);
  ASSERT_TRUE(t.column("future_per_s"));
  EXPECT_EQ(t.at(0, *t.column("future_per_s")), "42");
}

TEST(ResultsReader, ConcatenatedFilesSkipTheRepeatedHeader) {
  const auto t = read(file_of({FakeRun{}}) + file_of({FakeRun{}}) + "\n");
  EXPECT_EQ(t.rows.size(), 2u);
}

// Schema v2 renamed rate, peak_rate and depth (tree levels): a file qbench wrote before is read
// as v2, its values under the new names, its rows' schema_version made 2.
std::string v1_header() {
  std::string header = qb::csv_header();
  for (const auto& [now, before] :
       {std::pair{",rate_per_s,", ",rate,"}, std::pair{",peak_rate_per_s,", ",peak_rate,"},
        std::pair{",tree_depth,", ",depth,"}})
    header.replace(header.find(now), std::string(now).size(), before);
  return header;
}

TEST(ResultsReader, ReadsSchemaVersionOneUnderTheNewNames) {
  const std::string header = v1_header();
  std::string row = qb::csv_line(row_of(FakeRun{}));
  row[0] = '1';
  const auto t = read(header + "\n" + row + "\n");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.columns,
            std::vector<std::string>(qb::csv_columns().begin(), qb::csv_columns().end()));
  const auto fresh = read(qb::csv_header() + "\n" + qb::csv_line(row_of(FakeRun{})) + "\n");
  EXPECT_EQ(t.rows, fresh.rows) << "the same values, read as the current schema";
}

TEST(ResultsReader, RefusesOtherSchemasAndMalformedRows) {
  EXPECT_NE(read_error("name,value\nx,1\n").find("not a qbench results file"), std::string::npos);
  EXPECT_NE(read_error("").find("empty"), std::string::npos);
  std::string swapped = qb::csv_header();
  swapped.replace(swapped.find("queue,"), 6, "queuе,");  // a Cyrillic e
  EXPECT_NE(read_error(swapped + "\n").find("column 16"), std::string::npos);
  auto v3 = qb::csv_line(row_of(FakeRun{}));
  v3[0] = '3';
  EXPECT_NE(read_error(qb::csv_header() + "\n" + v3 + "\n").find("schema_version '3'"),
            std::string::npos);
  // A v1 header (the renamed columns under their v1 names) with a row that says 2 is neither.
  const std::string v1_with_v2_row =
      read_error(v1_header() + "\n" + qb::csv_line(row_of(FakeRun{})) + "\n");
  EXPECT_NE(v1_with_v2_row.find("schema_version '2' under a schema v1 header"), std::string::npos)
      << v1_with_v2_row;
  // A header with a v1 name and a v2 name of renamed columns is neither schema.
  std::string mixed = qb::csv_header();
  mixed.replace(mixed.find(",peak_rate_per_s,"), 17, ",peak_rate,");
  EXPECT_NE(read_error(mixed + "\n").find("v2 name in a header with v1 names"), std::string::npos);
  const auto row = qb::csv_line(row_of(FakeRun{}));
  EXPECT_NE(read_error(qb::csv_header() + "\n" + row + "\n" + row.substr(0, row.rfind(',')) + "\n")
                .find("mem.csv:3:"),
            std::string::npos);
  EXPECT_NE(read_error(qb::csv_header() + "\n" + row + ",\"unterminated\n").find("mem.csv:2:"),
            std::string::npos);
  EXPECT_NE(read_error(file_of({FakeRun{}}) + "schema_version,x\n").find("second header"),
            std::string::npos);
}

// ---- The comparison, through the library ---------------------------------------------------

TEST(CompareResults, MediansChangeAndVerdict) {
  std::vector<FakeRun> base, cand;
  const double b[] = {100, 110, 90, 105, 95}, c[] = {70, 77, 63, 73.5, 66.5};
  for (int i = 0; i < 5; ++i) {
    FakeRun r;
    r.rep = i;
    r.throughput = b[i];
    r.p99_ns = 1000 + i;
    base.push_back(r);
    r.throughput = c[i];
    cand.push_back(r);
  }
  // At alpha 0.05 (the default, 0.01, needs more than 5 a side for two comparisons).
  qb::CompareOptions at_05;
  at_05.alpha = 0.05;
  const auto rep = qb::compare_results(read(file_of(base)), read(file_of(cand)), at_05);
  ASSERT_EQ(rep.rows.size(), 2u);
  const auto& thr = rep.rows[0];
  EXPECT_EQ(thr.metric, "throughput_per_s");
  EXPECT_DOUBLE_EQ(thr.base_median, 100);
  EXPECT_DOUBLE_EQ(thr.cand_median, 70);
  EXPECT_NEAR(thr.change, -0.30, 1e-12);
  EXPECT_NEAR(thr.p, 2.0 / 252, 1e-12);  // separated 5 vs 5
  EXPECT_EQ(thr.finding, qb::Finding::regression);
  const auto& lat = rep.rows[1];
  EXPECT_DOUBLE_EQ(lat.change, 0);
  // Within 0.4% whatever the order: the whole interval of the shift is inside +-10%.
  EXPECT_EQ(lat.finding, qb::Finding::same);
  EXPECT_GE(lat.ci_low, -0.01);
  EXPECT_LE(lat.ci_high, 0.01);
  EXPECT_EQ(rep.exit_code(), 1);
  EXPECT_EQ(rep.configs.at(0), "mutex_cv steady 1x1");
}

TEST(CompareResults, LargeButNotSignificantIsInconclusiveNotARegression) {
  // Medians 30% apart, but the samples overlap: p is far above 0.05.
  std::vector<FakeRun> base, cand;
  const double b[] = {100, 60, 140, 95, 105}, c[] = {70, 150, 50, 65, 75};
  for (int i = 0; i < 5; ++i) {
    FakeRun r;
    r.rep = i;
    r.throughput = b[i];
    base.push_back(r);
    r.throughput = c[i];
    cand.push_back(r);
  }
  const auto rep = qb::compare_results(read(file_of(base)), read(file_of(cand)), {});
  EXPECT_NEAR(rep.rows[0].change, -0.30, 1e-12);
  EXPECT_GT(rep.rows[0].p, 0.05);
  EXPECT_EQ(rep.rows[0].finding, qb::Finding::inconclusive);
  EXPECT_GT(rep.rows[0].reps_needed, 5u);
  EXPECT_EQ(rep.exit_code(), 3);  // cannot decide, and says so
}

TEST(CompareResults, LabelsTellEveryConfigurationApart) {
  // Ended by duration or by items: the same queue, workload and threads, otherwise blank-only
  // differences, which labels normally leave out.
  std::vector<FakeRun> runs;
  for (int rep = 0; rep < 4; ++rep) {
    FakeRun r;
    r.rep = rep;
    runs.push_back(r);
    r.by_items = true;
    runs.push_back(r);
  }
  const auto t = read(file_of(runs));
  qb::CompareOptions at_05;  // 4 a side bound a 95% interval of the shift, not a 99% one
  at_05.alpha = 0.05;
  const auto rep = qb::compare_results(t, t, at_05);
  ASSERT_EQ(rep.configs.size(), 2u);
  EXPECT_EQ(rep.configs[0], "mutex_cv steady 1x1 duration_s=2 items_target=-");
  EXPECT_EQ(rep.configs[1], "mutex_cv steady 1x1 duration_s=- items_target=1000000");
  EXPECT_EQ(rep.exit_code(), 0);
  for (const auto& row : rep.rows) {
    EXPECT_EQ(row.finding, qb::Finding::same);
    EXPECT_DOUBLE_EQ(row.p, 1.0);  // identical samples
  }
}

// Every configuration-key column of the column table keeps apart two configurations that differ
// only in it: the columns come from the table, so a key column added later is covered without an
// edit here (and a key column that compare forgets pools two configurations: 6 repetitions of
// one instead of 3 of each).
TEST(CompareResults, EveryKeyColumnOfTheTableKeepsConfigurationsApart) {
  const auto& cols = qb::csv_columns();
  std::size_t keys = 0;
  for (const qb::Column& c : qb::results_table().columns) {
    if (c.role != qb::Role::key) continue;
    ++keys;
    SCOPED_TRACE("key column " + std::string(c.name));
    const auto i =
        static_cast<std::size_t>(std::find(cols.begin(), cols.end(), c.name) - cols.begin());
    ASSERT_LT(i, cols.size());
    std::string file = qb::csv_header() + "\n";
    for (int variant = 0; variant < 2; ++variant) {
      for (int rep = 0; rep < 3; ++rep) {
        FakeRun r;
        r.rep = rep;
        qb::CsvRow row = row_of(r);
        if (variant == 1) {  // another value of the same type: a number plus one, or a word
          const auto n = qb::parse_field_number(row[i]);
          row[i] = c.type == qb::Type::number ? num(n ? *n + 1 : 1) : row[i] + "_other";
        }
        file += qb::csv_line(row) + "\n";
      }
    }
    const auto t = read(file);
    const auto rep = qb::compare_results(t, t, {});
    ASSERT_EQ(rep.configs.size(), 2u) << "rows that differ only in " << c.name << " were pooled";
    EXPECT_NE(rep.configs[0], rep.configs[1]);
    for (const auto& row : rep.rows) {
      EXPECT_EQ(row.n_base, 3u) << rep.configs[row.config] << " " << row.metric;
      EXPECT_EQ(row.n_cand, 3u) << rep.configs[row.config] << " " << row.metric;
    }
  }
  EXPECT_GE(keys, 25u) << "the table lost its key columns";
}

// ---- The command ---------------------------------------------------------------------------

TEST_F(CompareCli, ReadsWhatQbenchRunWrites) {
  // Two real runs (a few milliseconds each), compared with themselves and with each other.
  const std::string a = (dir_ / "a.csv").string(), b = (dir_ / "b.csv").string();
  for (const auto& out : {a, b}) {
    const std::string cmd = shell_quote(QBENCH_BIN) + " run -q mutex_cv,split_cv -w flood,steady " +
                            "-n 2000 --reps 4 --quiet --out " + shell_quote(out) + " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  // A file against itself: never a change; same or, where a few-millisecond run spreads wide,
  // inconclusive (allowed here).
  const Outcome same = compare({a, a, "--allow-inconclusive"});
  EXPECT_EQ(same.code, 0) << describe(same);
  EXPECT_TRUE(has(same.out,
                  "8 comparison(s) in 4 configuration(s): 0 regression(s), 0 "
                  "improvement(s)"))
      << same.out;
  const Outcome other = compare({a, b, "--normalize-by", "mutex_cv", "--markdown"});
  EXPECT_NE(other.code, 2) << describe(other);  // timings: either verdict, but a valid report
  EXPECT_TRUE(has(other.out, "| `split_cv flood 1x1` | throughput_per_s | 4v4 |")) << other.out;
}

// The case: one file with --latency on,off and --keys 0,16, compared with itself. Each
// of the 8 configurations has its own 5 repetitions; none is pooled with another (10v10, 20v20).
TEST_F(CompareCli, LatencyAndKeysConfigurationsKeepTheirOwnRepetitions) {
  const std::string f = (dir_ / "f.csv").string();
  const std::string cmd = shell_quote(QBENCH_BIN) +
                          " run -q boost_spsc+spin,mutex_cv -w flood --latency on,off "
                          "--keys 0,16 --reps 5 -n 2000 --quiet --out " +
                          shell_quote(f) + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Outcome o = compare({f, f, "--allow-inconclusive"});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out, " in 8 configuration(s)")) << o.out;
  for (const char* queue : {"boost_spsc+spin flood 1x1", "mutex_cv flood 1x1"}) {
    for (const char* latency : {"latency_recording=on", "latency_recording=off"}) {
      for (const bool keyed : {false, true}) {
        // Labels leave blank (not applicable) keys out: keys=16, or nothing for --keys 0.
        std::string line;
        std::istringstream in(o.out);
        for (std::string l; std::getline(in, l);)
          if (has(l, queue) && has(l, latency) && has(l, "keys=16") == keyed &&
              has(l, "throughput_per_s"))
            line = l;
        ASSERT_FALSE(line.empty()) << queue << " " << latency << " keyed " << keyed << "\n"
                                   << o.out;
        EXPECT_TRUE(has(line, " 5v5 ")) << line;
      }
    }
  }
  EXPECT_FALSE(has(o.out, "10v10")) << o.out;
  EXPECT_FALSE(has(o.out, "20v20")) << o.out;
}

TEST_F(CompareCli, InjectedThirtyPercentDropIsFlagged) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9, 0.03, [](FakeRun& r) {
                            if (is(r, "split_cv", "steady", 1, 1)) r.throughput *= 0.7;
                          }));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 1) << describe(o);
  const auto line = line_with(o.out, {"split_cv steady 1x1", "throughput_per_s"});
  EXPECT_TRUE(has(line, "REGRESSION")) << o.out;
  EXPECT_NEAR(change_in(line), -30, 3) << line;
  EXPECT_TRUE(has(o.out, " 1 regression(s)")) << o.out;
  EXPECT_TRUE(has(o.out, "=> FAIL (exit 1)")) << o.out;
  EXPECT_TRUE(o.err.empty()) << o.err;
}

TEST_F(CompareCli, NoiseOfAFewPercentIsNot) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_FALSE(has(o.out, "REGRESSION")) << o.out;
  EXPECT_TRUE(has(o.out, "18 comparison(s) in 9 configuration(s): 0 regression(s)")) << o.out;
}

TEST_F(CompareCli, ImprovementIsMarkedAndPasses) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9, 0.03, [](FakeRun& r) {
                            if (is(r, "mutex_cv", "flood", 2, 2)) r.p99_ns *= 0.5;
                          }));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 0) << describe(o);
  const auto line = line_with(o.out, {"improvement"});
  EXPECT_TRUE(has(line, "latency_p99_ns")) << o.out;
  EXPECT_NEAR(change_in(line), -50, 3) << line;
  EXPECT_TRUE(has(o.out, "0 regression(s), 1 improvement(s)")) << o.out;
}

// A machine 40% slower (every queue, both metrics), busier in some repetitions than in others.
std::vector<FakeRun> slower_machine() {
  Noise busy(99);
  std::vector<double> factor;
  for (int rep = 0; rep < 9; ++rep)
    factor.push_back(0.6 * (1 + 0.1 * busy.next()));
  return matrix(2, 9, 0.03, [factor](FakeRun& r) {
    r.throughput *= factor[static_cast<std::size_t>(r.rep)];
    r.p99_ns /= factor[static_cast<std::size_t>(r.rep)];
  });
}

TEST_F(CompareCli, SlowerMachineIsFlaggedUnlessNormalised) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", slower_machine());
  const Outcome raw = compare({base, cand});
  EXPECT_EQ(raw.code, 1) << describe(raw);
  EXPECT_TRUE(has(raw.out, " 18 regression(s)")) << raw.out;
  // Every change one way: the report says that this is how a changed machine looks.
  EXPECT_TRUE(has(raw.out,
                  "warning: every one of the 18 significant changes is a regression, over 9 "
                  "configurations"))
      << raw.out;

  const Outcome norm = compare({base, cand, "--normalize-by", "mutex_cv"});
  EXPECT_EQ(norm.code, 0) << describe(norm);
  EXPECT_FALSE(has(norm.out, "REGRESSION")) << norm.out;
  EXPECT_TRUE(has(norm.out, "ratios to mutex_cv")) << norm.out;
  // The reference is not compared with itself: 2 queues x 3 shapes x 2 metrics.
  EXPECT_TRUE(has(norm.out, "12 comparison(s) in 6 configuration(s)")) << norm.out;
  EXPECT_EQ(line_with(norm.out, {"mutex_cv steady"}), "") << norm.out;
}

TEST_F(CompareCli, NormalisationStillSeesARealRegression) {
  auto runs = slower_machine();
  for (FakeRun& r : runs)
    if (is(r, "moodycamel+park", "flood", 1, 1)) r.throughput *= 0.7;
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", runs);
  const Outcome o = compare({base, cand, "--normalize-by", "mutex_cv"});
  EXPECT_EQ(o.code, 1) << describe(o);
  EXPECT_TRUE(
      has(line_with(o.out, {"moodycamel+park flood 1x1", "throughput_per_s"}), "REGRESSION"))
      << o.out;
  EXPECT_TRUE(has(o.out, " 1 regression(s)")) << o.out;
}

TEST_F(CompareCli, NormalisationWithoutItsReferenceSkipsAndSays) {
  auto base_runs = matrix(1, 9);
  auto cand_runs = matrix(2, 9);
  std::erase_if(cand_runs, [](const FakeRun& r) { return is(r, "mutex_cv", "flood", 2, 2); });
  const Outcome o = compare(
      {write("base.csv", base_runs), write("cand.csv", cand_runs), "--normalize-by", "mutex_cv"});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out, "note: skipped split_cv flood 2x2: no mutex_cv run")) << o.out;
  EXPECT_TRUE(has(o.out, "note: skipped moodycamel+park flood 2x2")) << o.out;
  EXPECT_TRUE(has(o.out, "only in baseline (1)")) << o.out;
}

TEST_F(CompareCli, NormalisationPairsRepetitionsByRepNumber) {
  // The candidate's rows in another order: the pairs are by rep, not by position.
  auto cand_runs = slower_machine();
  std::reverse(cand_runs.begin(), cand_runs.end());
  const Outcome o = compare({write("base.csv", matrix(1, 9)), write("cand.csv", cand_runs),
                             "--normalize-by", "mutex_cv"});
  EXPECT_EQ(o.code, 0) << describe(o);
}

TEST_F(CompareCli, NormalisationLeavesOutRepetitionsWhoseReferenceFailed) {
  const auto base = write("base.csv", matrix(1, 9, 0.03, [](FakeRun& r) {
                            if (is(r, "mutex_cv", "steady", 1, 1) && r.rep == 3)
                              r.verdict = "failed";
                          }));
  const Outcome o = compare({base, write("cand.csv", matrix(2, 9)), "--normalize-by", "mutex_cv"});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out,
                  "note: split_cv steady 1x1: 1 repetition(s) without an ok mutex_cv run "
                  "of the same rep and host, left out"))
      << o.out;
  EXPECT_TRUE(has(line_with(o.out, {"moodycamel+park steady 1x1", "throughput_per_s"}), "8v9"))
      << o.out;
  EXPECT_TRUE(has(line_with(o.out, {"moodycamel+park flood 1x1", "throughput_per_s"}), "9v9"))
      << o.out;
}

TEST_F(CompareCli, ConfigurationsOnOneSideAreReported) {
  auto base_runs = matrix(1, 5);
  auto cand_runs = matrix(2, 5);
  std::erase_if(base_runs, [](const FakeRun& r) { return is(r, "split_cv", "flood", 2, 2); });
  std::erase_if(cand_runs, [](const FakeRun& r) { return r.queue == "moodycamel+park"; });
  const Outcome o = compare({write("base.csv", base_runs), write("cand.csv", cand_runs)});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out, "only in baseline (3), not compared:\n  moodycamel+park steady 1x1\n"))
      << o.out;
  EXPECT_TRUE(has(o.out, "only in candidate (1), not compared:\n  split_cv flood 2x2\n")) << o.out;
  EXPECT_TRUE(has(o.out, "3 only in baseline, 1 only in candidate")) << o.out;
}

TEST_F(CompareCli, TooFewRepetitionsWarn) {
  // 2 vs 2 can never reach p < 0.01, whatever the drop: inconclusive (exit 3), and said so.
  const auto base = write("base.csv", matrix(1, 2));
  const auto cand = write("cand.csv", matrix(2, 2, 0.03, [](FakeRun& r) { r.throughput *= 0.7; }));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 3) << describe(o);
  EXPECT_TRUE(has(o.out, "=> INCONCLUSIVE")) << o.out;
  EXPECT_EQ(compare({base, cand, "--allow-inconclusive"}).code, 0);
  EXPECT_TRUE(has(o.out,
                  "warning: too few repetitions: 18 comparison(s) have 2 baseline x 2 "
                  "candidate values, whose smallest possible two-sided p is 0.333"))
      << o.out;
  // Holm over 18 comparisons: the smallest p must pass 0.01 / 18 = 5.6e-4; 7 vs 7 cannot
  // (2/3432 = 5.8e-4), 8 vs 8 can (2/12870).
  EXPECT_TRUE(has(o.out, "run at least 8 repetitions")) << o.out;
  EXPECT_TRUE(has(o.out, "inconclusive (too few reps; ~8 reps a side would decide)")) << o.out;
  // 5 vs 5 is enough for one test at 0.01 (2/252), not for 18 with Holm's correction.
  const auto b5 = write("b5.csv", matrix(1, 5));
  const auto c5 = write("c5.csv", matrix(2, 5));
  EXPECT_TRUE(has(compare({b5, c5}).out, "too few")) << compare({b5, c5}).out;
  const Outcome uncorrected = compare({b5, c5, "--correction", "none"});
  EXPECT_FALSE(has(uncorrected.out, "too few")) << uncorrected.out;
  // Enough repetitions: no warning.
  const Outcome nine = compare({write("b9.csv", matrix(1, 9)), write("c9.csv", matrix(2, 9))});
  EXPECT_FALSE(has(nine.out, "too few")) << nine.out;
}

TEST_F(CompareCli, FailedCandidateRunsFailTheComparison) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9, 0.03, [](FakeRun& r) {
                            if (is(r, "split_cv", "flood", 2, 2) && r.rep >= 7) {
                              r.verdict = "stalled";
                              r.throughput = 1;  // would be a regression if it were counted
                            }
                          }));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 1) << describe(o);
  EXPECT_TRUE(has(o.out, "FAILED on candidate (1")) << o.out;
  EXPECT_TRUE(has(o.out, "split_cv flood 2x2: 2 of 9 repetitions stalled")) << o.out;
  EXPECT_TRUE(has(o.out, "0 regression(s)")) << o.out;  // the other 7 are compared, and fine
  EXPECT_TRUE(has(line_with(o.out, {"split_cv flood 2x2", "throughput_per_s"}), "9v7")) << o.out;
}

TEST_F(CompareCli, FailedBaselineRunsOnlyWarn) {
  const auto base = write("base.csv", matrix(1, 9, 0.03, [](FakeRun& r) {
                            if (is(r, "mutex_cv", "steady", 1, 1) && r.rep == 0)
                              r.verdict = "failed";
                          }));
  const Outcome o = compare({base, write("cand.csv", matrix(2, 9))});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out,
                  "note: baseline run failed, excluded: mutex_cv steady 1x1: 1 of 9 "
                  "repetitions failed"))
      << o.out;
}

TEST_F(CompareCli, AnyNumericColumnCanBeAMetric) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9, 0.03, [](FakeRun& r) {
                            if (r.queue == std::string("mutex_cv")) r.cpu_ns_per_item *= 1.25;
                          }));
  const Outcome o = compare({base, cand, "--metric", "cpu_ns_per_item"});
  EXPECT_EQ(o.code, 1) << describe(o);
  EXPECT_TRUE(has(o.out, " 3 regression(s)")) << o.out;
  // The same change under a 30% threshold is noise.
  const Outcome wide = compare({base, cand, "--metric=cpu_ns_per_item", "--threshold", "30%"});
  EXPECT_EQ(wide.code, 0) << describe(wide);
  const Outcome fraction = compare({base, cand, "-m", "cpu_ns_per_item", "--threshold", "0.3"});
  EXPECT_EQ(fraction.code, 0) << describe(fraction);
}

TEST_F(CompareCli, MarkdownReport) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9, 0.03, [](FakeRun& r) {
                            if (is(r, "split_cv", "steady", 1, 1)) r.throughput *= 0.7;
                          }));
  const Outcome o = compare({base, cand, "--markdown"});
  EXPECT_EQ(o.code, 1) << describe(o);
  EXPECT_EQ(o.out.rfind("### qbench compare: :x: 1 regression(s)", 0), 0u) << o.out;
  EXPECT_TRUE(has(o.out,
                  "| configuration | metric | n | baseline | candidate | change | p | p_adj | "
                  "verdict |\n| --- |"))
      << o.out;
  EXPECT_TRUE(has(line_with(o.out, {"| `split_cv steady 1x1` | throughput_per_s |"}),
                  ":red_circle: **regression**"))
      << o.out;
}

TEST_F(CompareCli, ConcatenatedRunsAreRepetitionsOfTheSameConfiguration) {
  // Two invocations of 5 repetitions each (rep 0..4 twice), concatenated with their headers.
  const auto base = write("base.csv", file_of(matrix(1, 5)) + file_of(matrix(3, 5)));
  const auto cand = write("cand.csv", file_of(matrix(2, 5)) + file_of(matrix(4, 5)));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(line_with(o.out, {"mutex_cv steady 1x1"}), "10v10")) << o.out;
  const Outcome n = compare({base, cand, "--normalize-by", "mutex_cv"});
  EXPECT_EQ(n.code, 0) << describe(n);
  EXPECT_TRUE(has(line_with(n.out, {"split_cv steady 1x1"}), "10v10")) << n.out;
}

TEST_F(CompareCli, ForeignSchemaExitsTwo) {
  const auto good = write("good.csv", matrix(1, 3));
  const auto foreign = write("foreign.csv", "name,iterations,real_time\nBM_x,100,5.5\n");
  expect_bad_input(compare({good, foreign}), {"candidate", "foreign.csv", "not a qbench results"});
  auto v3 = file_of(matrix(1, 3));
  v3[v3.find('\n') + 1] = '3';
  expect_bad_input(compare({write("v3.csv", v3), good}), {"baseline", "v3.csv", "schema_version"});
}

TEST_F(CompareCli, UnreadableOrMalformedFileExitsTwo) {
  const auto good = write("good.csv", matrix(1, 3));
  expect_bad_input(compare({(dir_ / "missing.csv").string(), good}),
                   {"baseline", "missing.csv", "cannot read"});
  expect_bad_input(compare({good, dir_.string()}), {"candidate", "directory"});
  std::string text = file_of(matrix(1, 3));
  text += "1,short,row\n";
  expect_bad_input(compare({good, write("short.csv", text)}), {"short.csv:29:", "fields"});
  std::string row = qb::csv_line(row_of(FakeRun{}));
  row.replace(row.find(",1000000,"), 9, ",lots,");
  expect_bad_input(compare({good, write("words.csv", qb::csv_header() + "\n" + row + "\n")}),
                   {"words.csv:2:", "throughput_per_s", "'lots'"});
}

TEST_F(CompareCli, NoCommonConfigurationExitsTwo) {
  auto base_runs = matrix(1, 3);
  auto cand_runs = matrix(2, 3);
  for (FakeRun& r : cand_runs)
    r.queue = "boost_lockfree+park";
  expect_bad_input(compare({write("base.csv", base_runs), write("cand.csv", cand_runs)}),
                   {"no configuration in common", "queue is"});
}

TEST_F(CompareCli, BadOptionsExitTwoNamingTheFlag) {
  const auto a = write("a.csv", matrix(1, 3));
  const auto b = write("b.csv", matrix(2, 3));
  expect_bad_input(compare({a, b, "--metric", "throughput_per_sec"}),
                   {"--metric", "'throughput_per_sec'"});
  expect_bad_input(compare({a, b, "--metric", "host"}), {"--metric", "'host'"});
  expect_bad_input(compare({a, b, "--metric", "queue"}), {"--metric", "'queue'"});
  expect_bad_input(compare({a, b, "--metric", "throughput_per_s,"}), {"--metric"});
  expect_bad_input(compare({a, b, "--threshold", "10"}), {"--threshold", "'10'", "10%"});
  expect_bad_input(compare({a, b, "--threshold", "-5%"}), {"--threshold"});
  expect_bad_input(compare({a, b, "--threshold", "abc"}), {"--threshold"});
  expect_bad_input(compare({a, b, "--alpha", "0"}), {"--alpha", "'0'"});
  expect_bad_input(compare({a, b, "--alpha", "0.9"}), {"--alpha"});
  expect_bad_input(compare({a, b, "--normalize-by", "no_such_queue"}),
                   {"--normalize-by", "'no_such_queue'", "mutex_cv"});
  expect_bad_input(compare({a, b, "--normalize-by", ""}), {"--normalize-by"});
  expect_bad_input(compare({a}), {"candidate"});
  expect_bad_input(compare({a, b, "--no-such-flag"}), {"--no-such-flag"});
}

}  // namespace

// ---- Many comparisons ---------------------------------------------------------------------------

namespace qb {
namespace {

TEST(MultipleComparisons, HolmAndBenjaminiHochbergAdjustKnownValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> p = {0.01, 0.04, nan, 0.03, 0.005};
  // Holm, m = 4: sorted 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 -> max 0.06.
  const auto holm = adjust_p_values(p, Correction::holm);
  EXPECT_NEAR(holm[0], 0.03, 1e-12);
  EXPECT_NEAR(holm[1], 0.06, 1e-12);
  EXPECT_TRUE(std::isnan(holm[2]));
  EXPECT_NEAR(holm[3], 0.06, 1e-12);
  EXPECT_NEAR(holm[4], 0.02, 1e-12);
  // BH, m = 4: m/k x p = 0.02, 0.02, 0.04, 0.04; running minimum from the largest.
  const auto bh = adjust_p_values(p, Correction::bh);
  EXPECT_NEAR(bh[0], 0.02, 1e-12);
  EXPECT_NEAR(bh[1], 0.04, 1e-12);
  EXPECT_NEAR(bh[3], 0.04, 1e-12);
  EXPECT_NEAR(bh[4], 0.02, 1e-12);
  const auto none = adjust_p_values(p, Correction::none);
  EXPECT_EQ(none[1], 0.04);
  // 0.8 x 2 = 1.6 is capped at 1; 0.9 x 1 stays under the running maximum of 1.
  EXPECT_EQ(adjust_p_values({0.9, 0.8}, Correction::holm)[0], 1.0);
}

}  // namespace
}  // namespace qb

TEST_F(CompareCli, SameCodeUnderHeavyNoiseRaisesNoFalseAlarm) {
  // Two runs of the same code on a noisy machine (+-30% per repetition), 9 repetitions, 18
  // comparisons, 20 times over. Tested one by one at 0.05, some of the 360 comparisons come out
  // as regressions by chance; Holm's correction keeps the whole report quiet.
  int uncorrected_alarms = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto base = write("base.csv", matrix(1000 + seed, 9, 0.30));
    const auto cand = write("cand.csv", matrix(2000 + seed, 9, 0.30));
    const Outcome holm = compare({base, cand});
    // Never a regression; same, or inconclusive under this much noise.
    EXPECT_TRUE(holm.code == 0 || holm.code == 3) << "seed " << seed << "\n" << describe(holm);
    const Outcome none = compare({base, cand, "--correction", "none"});
    uncorrected_alarms += none.code == 1;
  }
  EXPECT_GT(uncorrected_alarms, 0) << "the uncorrected test should cry wolf now and then";
}

// ---- Three outcomes: regression / improvement, same, inconclusive --------------------------

TEST(ShiftInterval, MatchesTheHodgesLehmannIntervalOfTheExactDistribution) {
  // 1..5 against 6..10: the 25 differences are 1..9 (1, 2, 3, 4, 5, 4, 3, 2, 1 times); 5 vs 5 at
  // 0.05: P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so k = 2 and the interval is
  // [d_(3), d_(23)] = [2, 8] (R: wilcox.test(6:10, 1:5, conf.int = TRUE) gives 2 and 8).
  const auto ci = qb::shift_interval({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, 0.05);
  ASSERT_TRUE(ci.bounded);
  EXPECT_DOUBLE_EQ(ci.low, 2);
  EXPECT_DOUBLE_EQ(ci.high, 8);
  // Too small for any interval at 0.05: 1 vs 1 (P(U <= 0) = 1/2), 3 vs 3 (1/20).
  EXPECT_FALSE(qb::shift_interval({1}, {2}, 0.05).bounded);
  EXPECT_FALSE(qb::shift_interval({1, 2, 3}, {4, 5, 6}, 0.05).bounded);
  EXPECT_TRUE(qb::shift_interval({1, 2, 3, 4}, {5, 6, 7, 8}, 0.05).bounded);  // 1/70
  // Large samples (normal approximation): a shift of 10 inside, the interval narrow around it.
  std::vector<double> x, y;
  for (int i = 0; i < 200; ++i) {
    x.push_back(i % 17);
    y.push_back(i % 17 + 10);
  }
  const auto big = qb::shift_interval(x, y, 0.05);
  ASSERT_TRUE(big.bounded);
  EXPECT_LE(big.low, 10);
  EXPECT_GE(big.high, 10);
  EXPECT_GE(big.low, 8);
  EXPECT_LE(big.high, 12);
}

// The gate: throughput halved on every configuration, `reps` repetitions a side.
TEST_F(CompareCli, AFiftyPercentDropIsInconclusiveAtOneRepAndARegressionAtNine) {
  auto halved = [&](int reps) {
    return compare(
        {write("base.csv", matrix(1, reps)),
         write("cand.csv", matrix(2, reps, 0.03, [](FakeRun& r) { r.throughput *= 0.5; }))});
  };
  const Outcome one = halved(1);
  EXPECT_EQ(one.code, 3) << describe(one);  // inconclusive, never ok
  EXPECT_FALSE(has(one.out, "=> ok")) << one.out;
  EXPECT_TRUE(has(one.out, "inconclusive (too few reps")) << one.out;
  const Outcome nine = halved(9);
  EXPECT_EQ(nine.code, 1) << describe(nine);
  // Latency did not move: the same, with 9 repetitions and 3% noise.
  EXPECT_TRUE(has(nine.out, "9 regression(s), 0 improvement(s), 9 same, 0 inconclusive"))
      << nine.out;
}

TEST_F(CompareCli, TwoHostsAreRefusedUnlessAllowed) {
  const auto base = write("base.csv", matrix(1, 9));
  const auto cand = write("cand.csv", matrix(2, 9, 0.03, [](FakeRun& r) { r.host = "ci-2"; }));
  const Outcome o = compare({base, cand});
  EXPECT_EQ(o.code, 2) << describe(o);
  EXPECT_TRUE(has(o.err, "2 host values (ci-1, ci-2)")) << o.err;
  EXPECT_TRUE(has(o.err, "--allow-mixed-hosts")) << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out;
  const Outcome allowed = compare({base, cand, "--allow-mixed-hosts"});
  EXPECT_EQ(allowed.code, 0) << describe(allowed);
  EXPECT_TRUE(has(allowed.out, "note: the sides ran on different hosts")) << allowed.out;
}

TEST_F(CompareCli, TheHeaderGivesBothSidesRunContext) {
  const Outcome o = compare({write("base.csv", matrix(1, 9)), write("cand.csv", matrix(2, 9))});
  const auto line = line_with(o.out, {"baseline:"});
  EXPECT_TRUE(has(line, "host ci-1")) << o.out;
  EXPECT_TRUE(has(line, "cpu_model Test CPU, with a comma")) << o.out;
}

// ---- qbench merge ------------------------------------------------------------------------

// The 9 configurations of matrix(), 3 repetitions each, split into 3 parts by configuration.
std::vector<std::vector<FakeRun>> sharded_sweep() {
  std::vector<std::vector<FakeRun>> parts(3);
  std::map<std::string, std::size_t> part_of;
  for (FakeRun r : matrix(1, 3)) {
    const std::string config =
        r.queue + r.workload + std::to_string(r.producers) + std::to_string(r.consumers);
    const std::size_t k = part_of.emplace(config, part_of.size() % 3).first->second;
    r.shard = std::to_string(k + 1) + "/3";
    parts[k].push_back(r);
  }
  return parts;
}

TEST_F(CompareCli, MergeJoinsTheParts) {
  const auto parts = sharded_sweep();
  const std::string a = write("a.csv", parts[0]), b = write("b.csv", parts[1]),
                    c = write("c.csv", parts[2]), out = (dir_ / "all.csv").string();
  const Outcome o = qbench("merge", {out, a, b, c});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out, "merged 27 rows from 3 file(s)")) << o.out;
  // The merged file is one results file: compare reads it, 9 configurations of 3 repetitions.
  const Outcome self = compare({out, out});
  EXPECT_TRUE(has(self.out, " in 9 configuration(s)")) << self.out;
  EXPECT_TRUE(has(line_with(self.out, {"mutex_cv steady 1x1"}), "3v3")) << self.out;
  // It exists now: refused without --overwrite (nothing changed), replaced with it.
  const Outcome again = qbench("merge", {out, a, b, c});
  EXPECT_EQ(again.code, 2) << describe(again);
  EXPECT_TRUE(has(again.err, "exists (--overwrite replaces it)")) << again.err;
  EXPECT_EQ(qbench("merge", {out, a, b, c, "--overwrite"}).code, 0);
}

TEST_F(CompareCli, MergeReportsAMissingAndADuplicatedPart) {
  const auto parts = sharded_sweep();
  const std::string a = write("a.csv", parts[0]), b = write("b.csv", parts[1]),
                    c = write("c.csv", parts[2]);
  const Outcome missing = qbench("merge", {(dir_ / "m.csv").string(), a, c});
  EXPECT_EQ(missing.code, 1) << describe(missing);
  EXPECT_TRUE(has(missing.err, "1 of 3 parts missing: 2/3")) << missing.err;
  const Outcome twice = qbench("merge", {(dir_ / "d.csv").string(), a, b, c, b});
  EXPECT_EQ(twice.code, 1) << describe(twice);
  EXPECT_TRUE(has(twice.err, "9 repetition(s) duplicated")) << twice.err;
  EXPECT_TRUE(has(twice.err, "b.csv and " + b)) << twice.err;
}

TEST_F(CompareCli, MergeRefusesAForeignSchemaAndWritesNothing) {
  const std::string good = write("good.csv", matrix(1, 3));
  const std::string foreign = write("foreign.csv", "name,value\nx,1\n");
  const std::string out = (dir_ / "out.csv").string();
  const Outcome o = qbench("merge", {out, good, foreign});
  expect_bad_input(o, {"merge:", "foreign.csv"});
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(CompareCli, MergeFlagsAConfigurationMeasuredOnTwoHosts) {
  auto first = matrix(1, 3), second = matrix(2, 3);
  for (FakeRun& r : second) {
    r.rep += 3;
    if (is(r, "split_cv", "flood", 2, 2)) r.host = "ci-2";
  }
  const Outcome o =
      qbench("merge", {(dir_ / "h.csv").string(), write("1.csv", first), write("2.csv", second)});
  EXPECT_EQ(o.code, 0) << describe(o);
  EXPECT_TRUE(has(o.out, "note: 1 configuration(s) measured on several hosts")) << o.out;
  EXPECT_TRUE(has(o.out, "split_cv flood 2x2 (ci-1 (Test CPU, with a comma), ci-2")) << o.out;
}
