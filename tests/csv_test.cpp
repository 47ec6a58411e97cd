// Tests of results/csv.hpp: the exact CSV output of CsvReporter for hand-built results (golden
// strings), the schema's invariants, RFC 4180 quoting, and CsvFile's promises (append to the same
// schema, refuse a foreign one, never leave a half-written or temporary file).
#include "results/csv.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/file_support.hpp"

namespace qb {
namespace {

namespace fs = std::filesystem;
using qb::test::lines_of;
using qb::test::slurp;
using qb::test::write_file;
using namespace std::chrono_literals;

// ---- Fixtures -----------------------------------------------------------------------------

// The schema as of csv_schema_version 2 (v1 with rate, peak_rate and depth renamed), written
// out by hand: a change to the column list must be a deliberate edit here (and in
// results/README.md), with new columns only at the end.
constexpr std::string_view kHeaderV2 =
    "schema_version,run_id,timestamp,qbench_version,git_sha,host,cpu_model,cores,memory_bytes,"
    "kernel,compiler,build_type,sanitizer,clock,clock_cost_ns,queue,queue_order,queue_bound,"
    "queue_progress,workload,producers,consumers,oversubscribed,capacity,rate_per_s,"
    "peak_rate_per_s,burst_s,"
    "period_s,gaps,service,service_s,service_mode,backpressure,push_timeout_s,duration_s,"
    "items_target,stall_timeout_s,max_rss_bytes,rep,seed,verdict,verdict_detail,elapsed_s,"
    "produce_s,drain_s,offered,accepted,rejected,dropped,consumed,lost,duplicated,out_of_order,"
    "checksum_ok,starved_consumers,throughput_per_s,latency_p50_ns,latency_p90_ns,"
    "latency_p99_ns,latency_p999_ns,latency_p9999_ns,latency_max_ns,latency_mean_ns,"
    "sojourn_p50_ns,sojourn_p99_ns,sojourn_max_ns,lag_p50_ns,lag_p99_ns,lag_max_ns,cpu_user_s,"
    "cpu_sys_s,cpu_producers_s,cpu_consumers_s,cpu_ns_per_item,cpu_cores_busy,"
    "voluntary_switches,involuntary_switches,wakeups,wasted_wakeups,notifies,rss_before_bytes,"
    "rss_after_bytes,peak_rss_bytes,peak_depth,pacing,cpu_pacing_s,shutdown,poll_interval_s,"
    "shutdown_s,fanout,tree_depth,nodes_per_root,inline_nodes,keys,key_reorders,latency_recording,"
    "pinning,floor_rtt_p50_ns,floor_rtt_p99_ns,bare_ring_items_per_s,bare_items_per_s,"
    "bare_rtt_p50_ns,fidelity,placement,topology,latency_samples,latency_sample_every,shard,"
    "rss_baseline_bytes,peak_rss_growth_bytes,depth_samples,schedule_s,offered_per_s,kept_up,"
    "item_bytes,median_depth,bare_median_depth";

RunContext test_context() {
  RunContext ctx;
  ctx.timestamp = "2024-01-02T03:04:05Z";
  ctx.qbench_version = "0.1.0";
  ctx.git_sha = "abc1234";
  ctx.host = "testhost";
  ctx.cpu_model = "Test CPU, 2.0GHz \"X\"";  // a comma and quotes: must be quoted
  ctx.cores = 2;
  ctx.memory_bytes = 8589934592;
  ctx.kernel = "Linux 6.1.0";
  ctx.compiler = "GNU 12.2.0";
  ctx.build_type = "Release";
  ctx.sanitizer = "";
  ctx.clock = "tsc";
  ctx.clock_cost_ns = 7.5;
  return ctx;
}

// A burst run with every optional part present: wait stats, peak RSS, service time, timeout.
RunResult burst_result() {
  RunResult r;
  RunConfig& c = r.config;
  c.queue = "mutex_cv";
  c.workload = WorkloadKind::burst;
  c.producers = 2;
  c.consumers = 3;
  c.capacity = 4096;
  c.rate = 50'000;
  c.peak_rate = 1'500'000;
  c.burst = 100ms;
  c.period = 1s;
  c.gaps = Gaps::exponential;
  c.service = ServiceDist::fixed;
  c.service_time = 10us;
  c.service_mode = ServiceMode::sleep;
  c.backpressure = Backpressure::timeout;
  c.push_timeout = 5ms;
  c.duration = 2s;
  c.items = 0;
  c.stall_timeout = 5s;
  c.max_rss_bytes = 536870912;
  c.rep = 1;
  c.seed = 42;
  r.traits.order = Order::fifo;
  r.traits.bound = Bound::exact;
  r.traits.progress = Progress::blocking;
  r.oversubscribed = true;

  r.verdict = Verdict::failed;
  r.detail = "lost 2 items";
  r.elapsed_s = 2.5;
  r.produce_s = 2.0;
  r.drain_s = 0.5;
  r.offered = 1010;
  r.accepted = 1002;
  r.rejected = 5;
  r.dropped = 3;
  r.consumed = 1000;
  r.lost = 2;
  r.duplicated = 1;
  r.out_of_order = 4;
  r.checksum_ok = false;
  r.starved_consumers = 1;

  // 1..1000 ns once each: p50 500, p90 900, p99 990, p99.9 999, p99.99 1000, mean 500.5.
  for (int v = 1; v <= 1000; ++v)
    r.latency.record(v);
  for (int v : {10, 20, 30})
    r.sojourn.record(v);  // p50 20, p99 30, max 30
  r.lag.record(5);

  r.cpu_producers =
      CpuUsage{.user_s = 0.5, .sys_s = 0.25, .voluntary_switches = 10, .involuntary_switches = 2};
  r.cpu_consumers =
      CpuUsage{.user_s = 1.0, .sys_s = 0.25, .voluntary_switches = 20, .involuntary_switches = 3};
  r.wait_stats = WaitStats{.wakeups = 11, .wasted_wakeups = 4, .notifies = 13};
  r.rss_before = 1048576;
  r.rss_after = 2097152;
  r.peak_rss = 3145728;
  r.rss_baseline = 524288;
  r.peak_depth = 77;
  r.median_depth = 40;
  r.depth_samples = 12;
  r.schedule_s = 2;  // 1010 offered over 2 s: 505/s; items refused, so it did not keep up
  return r;
}

// A flood run bounded by an item count: no rate, no schedule, no service, no wait stats, no
// peak RSS, no lag, no memory cap. Every one of those columns must be blank.
RunResult flood_result() {
  RunResult r;
  RunConfig& c = r.config;
  c.queue = "boost_spsc+spin";
  c.workload = WorkloadKind::flood;
  c.producers = 1;
  c.consumers = 1;
  c.capacity = unbounded;
  c.rate = 100'000;  // set but not applicable to flood
  c.peak_rate = 1'000'000;
  c.gaps = Gaps::exponential;
  c.service = ServiceDist::none;
  c.service_mode = ServiceMode::sleep;
  c.backpressure = Backpressure::block;
  c.push_timeout = 1ms;  // not applicable to block
  c.items = 5000;
  c.stall_timeout = 2s;
  c.max_rss_bytes = 0;
  c.rep = 0;
  c.seed = 1;
  r.traits.order = Order::per_producer_fifo;
  r.traits.bound = Bound::approximate;
  r.traits.progress = Progress::wait_free;

  r.verdict = Verdict::ok;
  r.elapsed_s = 0.25;
  r.produce_s = 0.2;
  r.drain_s = 0.05;
  r.offered = 5000;
  r.accepted = 5000;
  r.consumed = 5000;
  r.latency.record(1000);
  r.sojourn.record(800);
  r.rss_before = 4096;
  r.rss_after = 8192;
  r.peak_depth = 12;
  return r;
}

constexpr std::string_view kBurstRow =
    "2,run-1,2024-01-02T03:04:05Z,0.1.0,abc1234,testhost,\"Test CPU, 2.0GHz \"\"X\"\"\",2,"
    "8589934592,Linux 6.1.0,GNU 12.2.0,Release,,tsc,7.5,"
    // queue .. seed
    "mutex_cv,fifo,exact,blocking,burst,2,3,1,4096,50000,1500000,0.1,1,exponential,fixed,1e-05,"
    "sleep,timeout,0.005,2,,5,536870912,1,42,"
    // verdict .. throughput
    "failed,lost 2 items,2.5,2,0.5,1010,1002,5,3,1000,2,1,4,0,1,400,"
    // latency, sojourn, lag
    "500,900,990,999,1000,1000,500.5,20,30,30,5,5,5,"
    // cpu
    "1.5,0.5,0.75,1.25,2000000,0.8,30,5,11,4,13,"
    // memory
    "1048576,2097152,3145728,77,sleep,0,close,,,,,,,,,on,,,,,,,,,,1000,1,,"
    // rss baseline .. kept up, item bytes
    "524288,2621440,12,2,505,0,24,40,";

constexpr std::string_view kFloodRow =
    "2,run-2,2024-01-02T03:04:05Z,0.1.0,abc1234,testhost,\"Test CPU, 2.0GHz \"\"X\"\"\",2,"
    "8589934592,Linux 6.1.0,GNU 12.2.0,Release,,tsc,7.5,"
    "boost_spsc+spin,per_producer_fifo,approximate,wait_free,flood,1,1,0,unbounded,,,,,,none,,,"
    "block,,,5000,2,,0,1,"
    "ok,,0.25,0.2,0.05,5000,5000,0,0,5000,0,0,0,1,0,20000,"
    "1000,1000,1000,1000,1000,1000,1000,800,800,800,,,,"
    "0,0,0,0,0,0,0,0,,,,"
    "4096,8192,,12,,,close,,,,,,,,,on,,,,,,,,,,1,5000,,"
    "0,,0,,,,24,0,";

std::size_t column(std::string_view name) {
  const auto& cols = csv_columns();
  const auto it = std::find(cols.begin(), cols.end(), name);
  EXPECT_NE(it, cols.end()) << name;
  return static_cast<std::size_t>(it - cols.begin());
}

// ---- Schema and golden output ---------------------------------------------------------------

TEST(CsvSchema, HeaderIsVersionTwoAndStartsWithSchemaVersion) {
  EXPECT_EQ(csv_schema_version, 2);
  EXPECT_EQ(csv_header(), kHeaderV2);
  ASSERT_FALSE(csv_columns().empty());
  EXPECT_EQ(csv_columns().front(), "schema_version");
  EXPECT_EQ(timeseries_columns().front(), "schema_version");
  EXPECT_EQ(parse_csv_line(csv_header()).size(), csv_columns().size());
}

TEST(CsvSchema, ColumnNamesAreUniqueAndNeedNoQuoting) {
  for (const auto* cols : {&csv_columns(), &timeseries_columns()}) {
    std::set<std::string_view> seen;
    for (auto c : *cols) {
      EXPECT_TRUE(seen.insert(c).second) << "duplicate column " << c;
      EXPECT_EQ(c.find_first_of(",\"\r\n "), std::string_view::npos) << c;
    }
  }
}

TEST(CsvReporter, GoldenOutput) {
  std::ostringstream out;
  CsvReporter rep(out);
  rep.report_context(test_context());
  rep.report_run(burst_result(), "run-1");
  rep.report_run(flood_result(), "run-2");
  rep.finalize();
  const std::string expected =
      std::string(kHeaderV2) + "\n" + std::string(kBurstRow) + "\n" + std::string(kFloodRow) + "\n";
  EXPECT_EQ(out.str(), expected);

  // Line by line as well, so that a mismatch names the column.
  const auto got = lines_of(out.str());
  const auto want = lines_of(expected);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t l = 1; l < got.size(); ++l) {
    const auto g = parse_csv_line(got[l]);
    const auto w = parse_csv_line(want[l]);
    ASSERT_EQ(g.size(), w.size()) << "line " << l;
    for (std::size_t i = 0; i < g.size() && i < csv_columns().size(); ++i)
      EXPECT_EQ(g[i], w[i]) << "line " << l << " column " << csv_columns()[i];
  }
}

TEST(CsvReporter, WithoutHeaderWritesRowsOnly) {
  std::ostringstream out;
  CsvReporter rep(out, /*write_header=*/false);
  rep.report_context(test_context());
  rep.report_run(flood_result(), "run-2");
  EXPECT_EQ(out.str(), std::string(kFloodRow) + "\n");
}

TEST(CsvReporter, EveryRowHasEveryColumn) {
  std::ostringstream out;
  CsvReporter rep(out);
  rep.report_context(test_context());
  rep.report_run(burst_result(), "run-1");
  rep.report_run(flood_result(), "run-2");
  RunResult empty;  // a default result: nothing recorded at all
  rep.report_run(empty, "run-3");
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 4u);
  const auto header = parse_csv_line(lines[0]);
  ASSERT_EQ(header.size(), csv_columns().size());
  for (std::size_t l = 1; l < lines.size(); ++l) {
    const auto row = parse_csv_line(lines[l]);
    EXPECT_EQ(row.size(), header.size()) << "line " << l;
    ASSERT_FALSE(row.empty());
    EXPECT_EQ(row[0], std::to_string(csv_schema_version)) << "line " << l;
  }
}

TEST(CsvReporter, TreeRowsDescribeTheTreeAndCountInlineNodes) {
  RunResult r = flood_result();
  r.config.workload = WorkloadKind::tree;
  r.config.fanout = 3;
  r.config.depth = 4;
  r.config.keys = 16;  // ignored for trees
  r.inline_nodes = 7;
  const auto row = csv_values(test_context(), r, "run-t");
  EXPECT_EQ(row[column("workload")], "tree");
  EXPECT_EQ(row[column("fanout")], "3");
  EXPECT_EQ(row[column("tree_depth")], "4");
  EXPECT_EQ(row[column("nodes_per_root")], "121");  // 1 + 3 + 9 + 27 + 81
  EXPECT_EQ(row[column("inline_nodes")], "7");
  EXPECT_EQ(row[column("keys")], "");
  EXPECT_EQ(row[column("key_reorders")], "");
}

TEST(CsvReporter, CalibrationPinningAndLatencyRecordingFillTheirColumns) {
  RunResult r = flood_result();
  r.config.record_latency = false;
  r.pinning = "p0:0 c0:1";
  RunContext ctx = test_context();
  ctx.calibrated = true;
  ctx.floor_rtt_p50_ns = 180;
  ctx.floor_rtt_p99_ns = 250.5;
  ctx.bare_ring_items_per_s = 2.5e7;
  const auto row = csv_values(ctx, r, "run-c");
  EXPECT_EQ(row[column("latency_recording")], "off");
  EXPECT_EQ(row[column("pinning")], "p0:0 c0:1");
  EXPECT_EQ(row[column("floor_rtt_p50_ns")], "180");
  EXPECT_EQ(row[column("floor_rtt_p99_ns")], "250.5");
  EXPECT_EQ(row[column("bare_ring_items_per_s")], "25000000");
}

TEST(CsvReporter, KeyedRowsReportKeysAndReorders) {
  RunResult r = flood_result();
  r.config.keys = 1024;
  r.key_reorders = 5;
  const auto row = csv_values(test_context(), r, "run-k");
  EXPECT_EQ(row[column("keys")], "1024");
  EXPECT_EQ(row[column("key_reorders")], "5");
  EXPECT_EQ(row[column("fanout")], "");
  EXPECT_EQ(row[column("nodes_per_root")], "");
}

TEST(CsvReporter, FloodLeavesNotApplicableColumnsBlank) {
  const auto row = csv_values(test_context(), flood_result(), "run-2");
  ASSERT_EQ(row.size(), csv_columns().size());
  for (auto name :
       {"rate_per_s", "peak_rate_per_s", "burst_s", "period_s", "gaps", "service_s", "service_mode",
        "push_timeout_s", "duration_s", "max_rss_bytes", "lag_p50_ns", "lag_p99_ns", "lag_max_ns",
        "wakeups", "wasted_wakeups", "notifies", "peak_rss_bytes"}) {
    EXPECT_EQ(row[column(name)], "") << name;
  }
  EXPECT_EQ(row[column("items_target")], "5000");
  EXPECT_EQ(row[column("capacity")], "unbounded");
  EXPECT_EQ(row[column("service")], "none");
}

TEST(CsvReporter, BurstFillsBurstColumns) {
  const auto row = csv_values(test_context(), burst_result(), "run-1");
  EXPECT_EQ(row[column("rate_per_s")], "50000");
  EXPECT_EQ(row[column("peak_rate_per_s")], "1500000");
  EXPECT_EQ(row[column("burst_s")], "0.1");
  EXPECT_EQ(row[column("period_s")], "1");
  EXPECT_EQ(row[column("gaps")], "exponential");
  EXPECT_EQ(row[column("items_target")], "");
}

TEST(CsvReporter, SteadyHasRateButNoBurstColumns) {
  RunResult r = burst_result();
  r.config.workload = WorkloadKind::steady;
  const auto row = csv_values(test_context(), r, "run-1");
  EXPECT_EQ(row[column("workload")], "steady");
  EXPECT_EQ(row[column("rate_per_s")], "50000");
  EXPECT_EQ(row[column("gaps")], "exponential");
  for (auto name : {"peak_rate_per_s", "burst_s", "period_s"})
    EXPECT_EQ(row[column(name)], "") << name;
}

// ---- Quoting ------------------------------------------------------------------------------

TEST(CsvLine, QuotesOnlyWhereNeededAndRoundTrips) {
  const CsvRow row = {"plain",     "a,b",  "say \"hi\"", "",         "comma, and \"quote\"",
                      "\"leading", "x\"y", ",",          " spaced ", "trailing\""};
  const std::string line = csv_line(row);
  EXPECT_EQ(line,
            "plain,\"a,b\",\"say \"\"hi\"\"\",,\"comma, and \"\"quote\"\"\",\"\"\"leading\","
            "\"x\"\"y\",\",\", spaced ,\"trailing\"\"\"");
  EXPECT_EQ(parse_csv_line(line), row);
}

TEST(CsvLine, ContextFieldWithCommaAndQuoteRoundTripsThroughARow) {
  RunContext ctx = test_context();
  ctx.host = "rack 3, \"blue\" box";
  RunResult r = flood_result();
  r.verdict = Verdict::stalled;
  r.detail = "no item consumed for 2s, \"stall\"";
  const auto values = csv_values(ctx, r, "id,1");
  const auto parsed = parse_csv_line(csv_line(values));
  EXPECT_EQ(parsed, values);
  EXPECT_EQ(parsed[column("host")], "rack 3, \"blue\" box");
  EXPECT_EQ(parsed[column("verdict")], "stalled");
  EXPECT_EQ(parsed[column("verdict_detail")], "no item consumed for 2s, \"stall\"");
  EXPECT_EQ(parsed[column("run_id")], "id,1");
}

TEST(CsvLine, ParseHandlesEmptyFieldsAndCrlf) {
  EXPECT_EQ(parse_csv_line(""), std::vector<std::string>{""});
  EXPECT_EQ(parse_csv_line(",,"), (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(parse_csv_line("a,\"\",b\r"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_THROW(parse_csv_line("a,\"unterminated"), std::runtime_error);
}

// ---- CsvFile ------------------------------------------------------------------------------

class CsvFileTest : public ::testing::Test {
 protected:
  test::ScratchDir scratch_{"qb_csv_test"};

  // Names of every entry in the directory, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_ = scratch_.path();
  const std::string header_ = csv_header();
};

TEST_F(CsvFileTest, NewFileGetsHeaderAndRowsOnCommit) {
  const fs::path p = dir_ / "out.csv";
  CsvFile f(p, header_, false);
  EXPECT_FALSE(f.appended());
  EXPECT_EQ(f.path(), p.string());
  EXPECT_FALSE(fs::exists(p)) << "nothing may be written before the first commit";
  EXPECT_TRUE(entries().empty()) << "the writability probe must be removed";
  f.add_line("row1");
  f.add_line("row2");
  f.commit();
  EXPECT_EQ(slurp(p), header_ + "\nrow1\nrow2\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.csv"});
}

TEST_F(CsvFileTest, EveryCommitLeavesACompleteFileAndNoTemporaries) {
  const fs::path p = dir_ / "out.csv";
  CsvFile f(p, header_, false);
  f.add_line("row1");
  f.commit();
  EXPECT_EQ(slurp(p), header_ + "\nrow1\n");
  f.add_line("row2");
  f.commit();
  EXPECT_EQ(slurp(p), header_ + "\nrow1\nrow2\n");
  f.commit();  // nothing new: unchanged
  EXPECT_EQ(slurp(p), header_ + "\nrow1\nrow2\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.csv"});
}

TEST_F(CsvFileTest, SameHeaderAppendsAndKeepsOldRows) {
  const fs::path p = dir_ / "out.csv";
  {
    CsvFile f(p, header_, false);
    f.add_line("old1");
    f.commit();
  }
  CsvFile g(p, header_, false);
  EXPECT_TRUE(g.appended());
  EXPECT_EQ(slurp(p), header_ + "\nold1\n") << "opening must not change the file";
  g.add_line("new1");
  g.commit();
  EXPECT_EQ(slurp(p), header_ + "\nold1\nnew1\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.csv"});
}

TEST_F(CsvFileTest, AppendsToAFileWithoutFinalNewlineOrWithCrlf) {
  const fs::path a = dir_ / "a.csv";
  write_file(a, header_ + "\nold1");
  {
    CsvFile f(a, header_, false);
    EXPECT_TRUE(f.appended());
    f.add_line("new1");
    f.commit();
  }
  EXPECT_EQ(slurp(a), header_ + "\nold1\nnew1\n");

  const fs::path b = dir_ / "b.csv";
  write_file(b, header_ + "\r\nold1\r\n");
  CsvFile g(b, header_, false);
  EXPECT_TRUE(g.appended());
  g.add_line("new1");
  g.commit();
  EXPECT_EQ(slurp(b), header_ + "\r\nold1\r\nnew1\n");
}

TEST_F(CsvFileTest, ForeignSchemaIsRefusedAndLeftUntouched) {
  const fs::path p = dir_ / "out.csv";
  const std::string foreign = "a,b,c\n1,2,3\n";
  write_file(p, foreign);
  const auto mtime = fs::last_write_time(p);
  EXPECT_THROW(CsvFile(p, header_, false), OutputError);
  EXPECT_EQ(slurp(p), foreign);
  EXPECT_EQ(fs::last_write_time(p), mtime);
  EXPECT_EQ(entries(), std::vector<std::string>{"out.csv"});
}

TEST_F(CsvFileTest, OlderOrNewerSchemaIsForeignToo) {
  // A header that is a prefix of ours (an older schema) or extends it (a newer one).
  const std::string older = header_.substr(0, header_.rfind(',')) + "\n1,2\n";
  const std::string newer = header_ + ",new_column\n1\n";
  for (const std::string& content : {older, newer}) {
    const fs::path p = dir_ / "out.csv";
    write_file(p, content);
    EXPECT_THROW(CsvFile(p, header_, false), OutputError);
    EXPECT_EQ(slurp(p), content);
  }
}

TEST_F(CsvFileTest, OverwriteReplacesAForeignFileOnlyAtCommit) {
  const fs::path p = dir_ / "out.csv";
  const std::string foreign = "a,b,c\n1,2,3\n";
  write_file(p, foreign);
  {
    CsvFile f(p, header_, /*overwrite=*/true);
    EXPECT_FALSE(f.appended());
    EXPECT_EQ(slurp(p), foreign) << "nothing is replaced before the first commit";
  }
  EXPECT_EQ(slurp(p), foreign);
  CsvFile f(p, header_, /*overwrite=*/true);
  f.add_line("row1");
  f.commit();
  EXPECT_EQ(slurp(p), header_ + "\nrow1\n");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.csv"});
}

TEST_F(CsvFileTest, OverwriteReplacesASameSchemaFileInsteadOfAppending) {
  const fs::path p = dir_ / "out.csv";
  write_file(p, header_ + "\nold1\n");
  CsvFile f(p, header_, /*overwrite=*/true);
  EXPECT_FALSE(f.appended());
  f.add_line("new1");
  f.commit();
  EXPECT_EQ(slurp(p), header_ + "\nnew1\n");
}

TEST_F(CsvFileTest, MissingDirectoryThrowsAndCreatesNothing) {
  const fs::path p = dir_ / "no-such-dir" / "out.csv";
  EXPECT_THROW(CsvFile(p, header_, false), OutputError);
  EXPECT_FALSE(fs::exists(dir_ / "no-such-dir"));
  EXPECT_TRUE(entries().empty());
}

TEST_F(CsvFileTest, ReadOnlyDirectoryThrowsAndCreatesNothing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into a 0500 directory anyway";
  const fs::path sub = dir_ / "ro";
  fs::create_directory(sub);
  fs::permissions(sub, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(CsvFile(sub / "out.csv", header_, false), OutputError);
  fs::permissions(sub, fs::perms::owner_all);
  EXPECT_TRUE(fs::is_empty(sub));
}

// An existing file qbench cannot read must not be taken for "no file" (and later replaced).
TEST_F(CsvFileTest, UnreadableExistingFileIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads a 0000 file anyway";
  const fs::path p = dir_ / "out.csv";
  const std::string foreign = "a,b,c\n1,2,3\n";
  write_file(p, foreign);
  fs::permissions(p, fs::perms::none);
  EXPECT_THROW(CsvFile(p, header_, false), OutputError);
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(slurp(p), foreign);
}

// A path naming a directory can never be written: refuse it up front (before any run), not at
// the first commit.
TEST_F(CsvFileTest, DirectoryAsTargetIsRefusedUpFront) {
  const fs::path p = dir_ / "sub";
  fs::create_directory(p);
  EXPECT_THROW(CsvFile(p, header_, false), OutputError);
  EXPECT_EQ(entries(), std::vector<std::string>{"sub"});
  EXPECT_TRUE(fs::is_empty(p));
}

}  // namespace
}  // namespace qb
