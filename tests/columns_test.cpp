// The column table (results/columns.hpp): consistent, complete (every getter fills its column
// for some run), documented in results/README.md, the one place a column name is written in
// the C++ sources, and exactly what scripts/columns.json (read by the Python scripts) says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "results/columns.hpp"
#include "results/compare.hpp"
#include "results/csv.hpp"
#include "results/ranking.hpp"
#include "tests/file_support.hpp"
#include "tests/qbench_process.hpp"

#ifndef QBENCH_BIN
#error "QBENCH_BIN must name the qbench executable"
#endif
#ifndef QB_SOURCE_DIR
#error "QB_SOURCE_DIR must name the source tree"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using qb::Column;
using qb::ColumnTable;
using qb::Role;

const fs::path kSource = QB_SOURCE_DIR;

std::set<std::string_view> all_names() {
  std::set<std::string_view> names;
  for (const ColumnTable* t : qb::column_tables())
    for (const Column& c : t->columns)
      names.insert(c.name);
  return names;
}

// ---- Consistency ------------------------------------------------------------------------------

TEST(ColumnTable, NamesAreUniqueLowerSnakeAndSchemaVersionComesFirst) {
  ASSERT_EQ(qb::column_tables().size(), 3u);
  for (const ColumnTable* t : qb::column_tables()) {
    SCOPED_TRACE(std::string(t->file));
    ASSERT_FALSE(t->columns.empty());
    EXPECT_EQ(t->columns.front().name, qb::col::schema_version.name);
    std::set<std::string_view> seen;
    for (const Column& c : t->columns) {
      EXPECT_TRUE(seen.insert(c.name).second) << "duplicate column " << c.name;
      EXPECT_FALSE(c.name.empty());
      EXPECT_EQ(c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"),
                std::string_view::npos)
          << c.name;
      EXPECT_NE(c.get, nullptr) << c.name;
    }
  }
  EXPECT_EQ(qb::results_table().schema_version, qb::csv_schema_version);
  EXPECT_EQ(qb::timeseries_table().schema_version, qb::timeseries_schema_version);
  EXPECT_EQ(qb::calibration_table().schema_version, qb::calibration_schema_version);
}

TEST(ColumnTable, EveryMetricHasADirectionAndOnlyMeasurementsHaveOne) {
  for (const ColumnTable* t : qb::column_tables()) {
    for (const Column& c : t->columns) {
      SCOPED_TRACE(std::string(t->file) + " " + std::string(c.name));
      if (c.role == Role::metric) {
        EXPECT_NE(c.better, qb::Better::none);
      }
      if (c.better != qb::Better::none) {
        EXPECT_TRUE(c.role == Role::metric || c.role == Role::context);
        EXPECT_EQ(c.type, qb::Type::number);
      }
      if (c.has(qb::compared)) {
        EXPECT_EQ(c.role, Role::metric);
      }
    }
  }
}

TEST(ColumnTable, AppendedColumnsAreAtTheEndAfterTheFirstRelease) {
  for (const ColumnTable* t : qb::column_tables()) {
    bool appended = false;
    for (const Column& c : t->columns) {
      if (appended) {
        EXPECT_TRUE(c.has(qb::appended)) << t->file << ": " << c.name;
      }
      appended = appended || c.has(qb::appended);
    }
  }
  // Schema v1 as first released: 84 columns, up to peak_depth (results/README.md).
  const auto& cols = qb::results_table().columns;
  const auto first_appended =
      std::find_if(cols.begin(), cols.end(), [](const Column& c) { return c.has(qb::appended); });
  EXPECT_EQ(first_appended - cols.begin(), 84);
  EXPECT_EQ((first_appended - 1)->name, "peak_depth");
}

TEST(ColumnTable, SharedColumnsAreTheSameRows) {
  // The time-series and calibration files reuse the results file's rows for what they share.
  for (const ColumnTable* t : {&qb::timeseries_table(), &qb::calibration_table()}) {
    for (const Column& c : t->columns) {
      const Column* r = qb::results_table().find(c.name);
      if (r == nullptr || r->get != c.get) continue;
      EXPECT_EQ(r->role, c.role) << c.name;
      EXPECT_EQ(r->unit, c.unit) << c.name;
    }
  }
  EXPECT_EQ(qb::timeseries_table().find("queue")->get, qb::col::queue.get);
  EXPECT_EQ(qb::calibration_table().find("host")->get, qb::col::host.get);
}

// The other files' goldens (the results file's is in csv_test): a change is a deliberate edit.
TEST(ColumnTable, TimeSeriesAndCalibrationHeadersAreUnchanged) {
  EXPECT_EQ(qb::timeseries_header(),
            "schema_version,run_id,git_sha,host,queue,workload,producers,consumers,capacity,"
            "backpressure,rep,t_s,queue_depth,rss_bytes,consumed,accepted,refused,in_burst,"
            "latency_mean_ns,latency_p99_ns,latency_max_ns");
  EXPECT_EQ(qb::calibration_table().header(),
            "schema_version,timestamp,qbench_version,git_sha,host,cpu_model,cores,memory_bytes,"
            "kernel,compiler,build_type,sanitizer,pinning,rtt_min_ns,rtt_p50_ns,rtt_p99_ns,"
            "rtt_max_ns,clock_read_ns,bare_ring_items_per_s,round_trips,ring_items,cpu_pairs,"
            "pair_rtt_min_ns,pair_rtt_median_ns,pair_rtt_max_ns");
}

TEST(ColumnTable, CompareKeysAreEveryKeyColumnAndDefaultsAreTheComparedFlag) {
  std::set<std::string_view> keys;
  for (const Column& c : qb::results_table().columns)
    if (c.role == Role::key) keys.insert(c.name);
  const auto& ck = qb::compare_key_columns();
  EXPECT_EQ(std::set<std::string_view>(ck.begin(), ck.end()), keys);
  EXPECT_EQ(ck.size(), keys.size());
  ASSERT_GE(ck.size(), 4u);  // labels start with these four
  EXPECT_EQ(ck[0], qb::col::queue.name);
  EXPECT_EQ(ck[1], qb::col::workload.name);
  EXPECT_EQ(ck[2], qb::col::producers.name);
  EXPECT_EQ(ck[3], qb::col::consumers.name);
  for (const char* k : {"fanout", "tree_depth", "nodes_per_root", "keys", "latency_recording",
                        "pinning", "shutdown", "rate_per_s", "peak_rate_per_s"})
    EXPECT_TRUE(keys.count(k)) << k << " is a configuration key";
  EXPECT_EQ(qb::default_compare_metrics(),
            (std::vector<std::string>{"throughput_per_s", "latency_p99_ns"}));
}

// ---- Every getter fills its column for some run ------------------------------------------------

// Every field set, calibrated, from a sanitizer build.
qb::RunContext full_context() {
  return {.timestamp = "2024-01-02T03:04:05Z",
          .qbench_version = "0.1.0",
          .git_sha = "abc1234",
          .host = "h",
          .cpu_model = "cpu",
          .cores = 2,
          .memory_bytes = 1 << 30,
          .kernel = "Linux",
          .compiler = "GNU",
          .build_type = "Release",
          .sanitizer = "thread",
          .clock = "tsc",
          .clock_cost_ns = 20,
          .topology = "1 package 2 cores 2 CPUs 1 node",
          .calibrated = true,
          .floor_rtt_p50_ns = 100,
          .floor_rtt_p99_ns = 200,
          .bare_ring_items_per_s = 1e8};
}

// A burst run with every optional part: keys, service, timeout, poll shutdown, cap, wait stats.
qb::RunResult burst_run() {
  qb::RunResult r;
  qb::RunConfig& c = r.config;
  c.queue = "mutex_cv";
  c.workload = qb::WorkloadKind::burst;
  c.keys = 16;
  c.service = qb::ServiceDist::fixed;
  c.service_time = 10us;
  c.backpressure = qb::Backpressure::timeout;
  c.shutdown = qb::Shutdown::poll;
  c.max_rss_bytes = 1 << 30;
  c.pin = true;
  r.pinning = "p0:0 c0:1";
  r.verdict = qb::Verdict::failed;
  r.detail = "lost 1 item";
  r.elapsed_s = 1;
  r.consumed = 10;
  r.shutdown_s = 0.001;
  r.latency.record(100);
  r.sojourn.record(90);
  r.lag.record(10);
  r.wait_stats = qb::WaitStats{.wakeups = 1, .wasted_wakeups = 0, .notifies = 1};
  r.peak_rss = 4096;
  r.offered = 10;
  r.schedule_s = 0.999;
  return r;
}

// A tree run ended by an item count, as part 2 of 3 of a sharded matrix.
qb::RunResult tree_run() {
  qb::RunResult r;
  r.config.shard = "2/3";
  r.config.queue = "ws_pool";
  r.config.workload = qb::WorkloadKind::tree;
  r.config.items = 100;
  r.consumed = 3100;
  r.elapsed_s = 1;
  return r;
}

// Flood and pingpong runs of qbench run --calibrate: each carries its queue's bare reference.
qb::RunResult calibrated_flood_run() {
  qb::RunResult r = tree_run();
  r.config.workload = qb::WorkloadKind::flood;
  r.bare_items_per_s = 6200;
  r.bare_median_depth = 3;
  return r;
}
qb::RunResult calibrated_pingpong_run() {
  qb::RunResult r = burst_run();
  r.config.workload = qb::WorkloadKind::pingpong;
  r.bare_rtt_p50_ns = 90;
  return r;
}

TEST(ColumnTable, EveryResultsColumnIsFilledByABurstTreeOrCalibratedRun) {
  const qb::RunContext ctx = full_context();
  const auto& cols = qb::results_table().columns;
  std::vector<bool> filled(cols.size(), false);
  for (const qb::RunResult& r :
       {burst_run(), tree_run(), calibrated_flood_run(), calibrated_pingpong_run()}) {
    const qb::CsvRow row = qb::csv_values(ctx, r, "run-1");
    ASSERT_EQ(row.size(), cols.size());
    for (std::size_t i = 0; i < row.size(); ++i)
      filled[i] = filled[i] || !row[i].empty();
  }
  for (std::size_t i = 0; i < cols.size(); ++i)
    EXPECT_TRUE(filled[i]) << cols[i].name << " is blank for every run";
}

TEST(ColumnTable, FidelityIsTheShareOfTheBareFigureTheRunKept) {
  const qb::RunContext ctx = full_context();
  const auto& cols = qb::results_table().columns;
  const auto at = [&](std::string_view name) {
    for (std::size_t i = 0; i < cols.size(); ++i)
      if (cols[i].name == name) return i;
    return cols.size();
  };
  // Flood: 3100 items in 1 s against a bare 6200/s.
  EXPECT_EQ(qb::csv_values(ctx, calibrated_flood_run(), "r")[at("fidelity")], "0.5");
  // Pingpong: a bare round trip of 90 ns against a p50 of 100 ns (within 1/1024).
  const std::string f = qb::csv_values(ctx, calibrated_pingpong_run(), "r")[at("fidelity")];
  EXPECT_NEAR(std::stod(f), 0.9, 0.001) << f;
  // Not calibrated: blank.
  EXPECT_EQ(qb::csv_values(ctx, burst_run(), "r")[at("fidelity")], "");
}

TEST(ColumnTable, TimeSeriesAndCalibrationRowsFillEveryColumn) {
  const qb::RunContext ctx = full_context();
  const qb::RunResult r = burst_run();
  const qb::Sample s{.t_s = 0.5,
                     .depth = 3,
                     .rss_bytes = 4096,
                     .consumed = 10,
                     .accepted = 13,
                     .refused = 1,
                     .in_burst = true,
                     .lat_mean_ns = 100,
                     .lat_p99_ns = 150,
                     .lat_max_ns = 200};
  const qb::CsvRow ts = qb::timeseries_values(ctx, r, "run-1", s);
  ASSERT_EQ(ts.size(), qb::timeseries_table().columns.size());
  for (std::size_t i = 0; i < ts.size(); ++i)
    EXPECT_FALSE(ts[i].empty()) << qb::timeseries_table().columns[i].name;
  EXPECT_EQ(qb::csv_line(ts),
            "2,run-1,abc1234,h,mutex_cv,burst,1,1,1024,timeout,0,0.500000,3,4096,"
            "10,13,1,1,100,150,200");

  qb::Calibration cal;
  cal.pinning = "cpu0<->cpu1";
  cal.rtt_min_ns = 1;
  cal.round_trips = 10;
  cal.ring_items = 10;
  cal.pairs = {{0, 1, 120}, {0, 2, 300}, {1, 2, 110}};
  qb::RowSource src;
  src.context = &ctx;
  src.calibration = &cal;
  const auto row = qb::calibration_table().row_values(src);
  ASSERT_EQ(row.size(), qb::calibration_table().columns.size());
  for (std::size_t i = 0; i < row.size(); ++i)
    EXPECT_FALSE(row[i].empty()) << qb::calibration_table().columns[i].name;
}

// ---- Documented ---------------------------------------------------------------------------------

TEST(ColumnTable, EveryColumnIsDocumentedInResultsReadme) {
  const std::string readme = qb::test::slurp(kSource / "results" / "README.md");
  ASSERT_FALSE(readme.empty());
  for (std::string_view name : all_names()) {
    const std::string quoted = "`" + std::string(name) + "`";
    EXPECT_NE(readme.find(quoted), std::string::npos)
        << name << " has no line in results/README.md";
  }
}

// ---- Ranking (results/ranking.hpp) --------------------------------------------------------------

// Every workload is ranked by a metric of the results file, in the direction its figure is
// better: throughput higher, latencies lower.
TEST(Ranking, EveryWorkloadIsRankedByAResultsMetric) {
  using namespace qb;
  const auto& workloads = EnumNames<WorkloadKind>::names;
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    SCOPED_TRACE(std::string(workloads[i]));
    const Ranking r = ranking_of(static_cast<WorkloadKind>(i));
    const Column* c = results_table().find(r.column->name);
    ASSERT_NE(c, nullptr) << r.column->name << " is not a column of the results file";
    EXPECT_EQ(c->role, Role::metric);
    EXPECT_EQ(c->better, r.primary == Primary::throughput ? Better::higher : Better::lower);
    EXPECT_FALSE(r.title.empty());
  }
  EXPECT_EQ(ranking_of(WorkloadKind::pingpong).primary, Primary::p50);
  EXPECT_EQ(ranking_of(WorkloadKind::steady).primary, Primary::p99);
  EXPECT_EQ(ranking_of(WorkloadKind::flood).primary, Primary::throughput);
}

// ---- scripts/columns.json -----------------------------------------------------------------------

const char* const kRegenerate =
    "scripts/columns.json is not what `qbench columns --json` prints; after a change to the "
    "column table, regenerate it: build/release/qbench columns --json > scripts/columns.json";

TEST(ColumnsJson, TheCheckedInFileIsTheTable) {
  std::ostringstream json;
  qb::write_columns_json(json);
  EXPECT_EQ(qb::test::slurp(kSource / "scripts" / "columns.json"), json.str()) << kRegenerate;
}

class QbenchColumns : public qb::test::QbenchProcess {};

TEST_F(QbenchColumns, PrintsTheTablePlainAndAsTheCheckedInJson) {
  const auto json = run(QBENCH_BIN, {"columns", "--json"}, 60);
  ASSERT_EQ(json.code, 0) << qb::test::describe(json);
  EXPECT_EQ(json.out, qb::test::slurp(kSource / "scripts" / "columns.json")) << kRegenerate;

  const auto plain = run(QBENCH_BIN, {"columns"}, 60);
  ASSERT_EQ(plain.code, 0) << qb::test::describe(plain);
  for (const char* needle : {"results (schema_version 2, ", "timeseries (schema_version 2, ",
                             "calibration (schema_version 1, ", "name", "role", "unit", "better"})
    EXPECT_NE(plain.out.find(needle), std::string::npos) << needle << " not in:\n" << plain.out;
  // One aligned line per column: name, role, type, unit, better, flags.
  bool found = false;
  std::istringstream in(plain.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    if (!w.empty() && w[0] == "throughput_per_s") {
      found = true;
      EXPECT_EQ(w, (std::vector<std::string>{"throughput_per_s", "metric", "number", "1/s",
                                             "higher", "compared"}));
    }
  }
  EXPECT_TRUE(found) << plain.out;

  const auto bad = run(QBENCH_BIN, {"columns", "--no-such-flag"}, 60);
  EXPECT_EQ(bad.code, 2) << qb::test::describe(bad);
}

// ---- One place for every column name ------------------------------------------------------------

// The string literals of C++ source text, without those in comments. Handles escapes, raw
// strings (R"d(...)d"), character literals and digit separators (1'000).
std::vector<std::string> string_literals(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const auto word_char = [&](std::size_t k) {
    const char c = s[k];
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  while (i < s.size()) {
    if (s.compare(i, 2, "//") == 0) {
      i = s.find('\n', i);
      if (i == std::string_view::npos) break;
    } else if (s.compare(i, 2, "/*") == 0) {
      i = s.find("*/", i + 2);
      if (i == std::string_view::npos) break;
      i += 2;
    } else if (s[i] == '\'') {
      if (i > 0 && word_char(i - 1)) {
        ++i;  // a digit separator (1'000), or a prefix (u8'x') whose literal holds no quote
        continue;
      }
      for (++i; i < s.size() && s[i] != '\''; ++i)
        if (s[i] == '\\') ++i;
      ++i;
    } else if (s[i] == '"') {
      if (i > 0 && s[i - 1] == 'R') {  // raw string: R"delim( ... )delim"
        const std::size_t open = s.find('(', i);
        const std::string close = ")" + std::string(s.substr(i + 1, open - i - 1)) + "\"";
        const std::size_t end = s.find(close, open);
        out.emplace_back(s.substr(open + 1, end - open - 1));
        i = end + close.size();
        continue;
      }
      std::string lit;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) lit += s[i++];
        lit += s[i];
      }
      out.push_back(lit);
      ++i;
    } else {
      ++i;
    }
  }
  return out;
}

// For each column name: the source files (relative to `root`) of the given folders in which a
// string literal equal to it appears.
std::map<std::string, std::set<std::string>> files_writing(
    const fs::path& root, const std::vector<std::string>& folders,
    const std::set<std::string_view>& names) {
  std::map<std::string, std::set<std::string>> found;
  for (const auto& folder : folders) {
    if (!fs::exists(root / folder)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root / folder)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h")) continue;
      for (const auto& lit : string_literals(qb::test::slurp(e.path())))
        if (names.count(lit)) found[lit].insert(fs::relative(e.path(), root).string());
    }
  }
  return found;
}

const std::vector<std::string> kScanned = {"core",    "queues",  "workloads",
                                           "results", "harness", "bench"};

// Words that happen to be column names but name something else: headings of the console tables
// for people, and a role's name. Each must still be there (a stale entry fails too).
struct OtherMeaning {
  const char* file;
  const char* word;
  const char* why;
};
const OtherMeaning kOtherMeanings[] = {
    {"results/console.cpp", "cores", "heading of cpu_cores_busy"},
    {"results/console.cpp", "refused", "heading of rejected + dropped"},
    {"results/compare.cpp", "verdict", "heading of compare's finding (regression, noise, ...)"},
    {"results/columns.hpp", "verdict", "the name of the role Role::verdict"},
};

TEST(ColumnNames, NoColumnNameIsWrittenInTwoSourceFiles) {
  auto found = files_writing(kSource, kScanned, all_names());
  for (const OtherMeaning& h : kOtherMeanings) {
    auto it = found.find(h.word);
    ASSERT_TRUE(it != found.end() && it->second.erase(h.file) == 1)
        << h.file << " no longer writes \"" << h.word << "\": remove it from kOtherMeanings";
  }
  // Every name is written once, in the table; anywhere else, it is taken from the table.
  const std::set<std::string> table = {"results/columns.cpp"};
  for (std::string_view name : all_names()) {
    const auto& files = found[std::string(name)];
    std::string where;
    for (const auto& f : files)
      where += " " + f;
    EXPECT_EQ(files, table) << "column name \"" << name << "\" is written in" << where
                            << "; elsewhere than results/columns.cpp, take it from the column "
                               "table (results/columns.hpp: qb::col::..., or a table lookup)";
  }
}

TEST(ColumnNames, TheScannerSeesLiteralsNotComments) {
  const auto lits = string_literals(
      "// \"in_a_comment\"\n/* \"nor\" here */ auto a = \"queue\"; int n = 1'000'000;\n"
      "char q = '\"'; auto r = R\"x(host)x\"; auto e = \"say \\\"hi\\\"\"; f(\"rep\");");
  EXPECT_EQ(lits, (std::vector<std::string>{"queue", "host", "say \\\"hi\\\"", "rep"}));

  // Two files writing one name are reported, with both files.
  char tmpl[] = "/tmp/qb_columns_scan.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path root = tmpl;
  fs::create_directories(root / "results");
  fs::create_directories(root / "harness");
  qb::test::write_file(root / "results" / "a.cpp", "auto x = \"queue\"; // \"host\"\n");
  qb::test::write_file(root / "harness" / "b.cpp", "f(\"queue\", \"other\");\n");
  const auto found = files_writing(root, kScanned, all_names());
  fs::remove_all(root);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found.at("queue"), (std::set<std::string>{"harness/b.cpp", "results/a.cpp"}));
}

}  // namespace
