// The matrix behind `qbench run`: the option table (every default parses and reads back, every
// option refuses a bad value naming its flag), the cross product of list-valued options in a
// pinned order, and --shard K/N, whose parts must cover the matrix exactly once,
// deterministically and balanced.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "harness/cli.hpp"

namespace qb::cli {
namespace {

// ---- The option table -----------------------------------------------------------------------

// Parses `text` as one item of `opt` into a fresh run and matrix, and spells the value back.
std::string parse_and_show(const RunOption& opt, const std::string& text) {
  RunConfig c;
  Matrix m;
  for (const Apply& set : opt.value.parse(default_registry(), opt.name(), text))
    set(c, m);
  return opt.value.show(c, m);
}

// The text an option has when it is not given (the queue has no default: any name will do).
std::string default_text(const RunOption& opt) {
  if (opt.given) return "false";
  return opt.required ? "mutex_cv" : std::string(opt.fallback);
}

TEST(Options, EveryDefaultParsesAndReadsBack) {
  ASSERT_GE(run_options().size(), 35u);
  for (const RunOption& opt : run_options()) {
    SCOPED_TRACE(opt.name());
    const std::string shown = parse_and_show(opt, default_text(opt));
    EXPECT_EQ(parse_and_show(opt, shown), shown) << "to_string does not read back";
    if (!opt.fallback.empty()) {
      EXPECT_EQ(shown, opt.fallback) << "the default is not written as to_string spells it";
      // The declared default is what a RunConfig (or a Matrix) holds when nothing is said.
      EXPECT_EQ(opt.value.show(RunConfig{}, Matrix{}), shown);
    }
  }
}

TEST(Options, ValuesReadBackInTheirShortestExactSpelling) {
  const std::map<std::string, std::vector<std::pair<std::string, std::string>>> cases = {
      {"--rate", {{"1.5M", "1.5M"}, {"2500", "2.5k"}, {"50k/s", "50k"}, {"0.5", "0.5"}}},
      {"--capacity", {{"unbounded", "unbounded"}, {"4k", "4000"}}},
      {"--duration", {{"1500ms", "1500ms"}, {"0.5s", "500ms"}, {"120s", "2min"}}},
      {"--backpressure", {{"timeout:5ms", "timeout:5ms"}, {"drop", "drop"}}},
      {"--shutdown", {{"poll:250us", "poll:250us"}, {"poison", "poison"}}},
      {"--work", {{"exp:10us", "exp:10us"}, {"fixed:1.5us", "fixed:1500ns"}}},
      {"--gaps", {{"poisson", "exponential"}}},
      {"--max-rss", {{"512M", "512M"}, {"4GiB", "4G"}, {"20000000", "20000000"}}},
      {"--items", {{"50k", "50000"}}},
      {"--latency", {{"off", "off"}}},
      {"--shard", {{"2/4", "2/4"}}},
  };
  for (const RunOption& opt : run_options()) {
    const auto it = cases.find(opt.name());
    if (it == cases.end()) continue;
    for (const auto& [typed, shown] : it->second)
      EXPECT_EQ(parse_and_show(opt, typed), shown) << opt.name() << " " << typed;
  }
}

// Every option that takes a value checks it (file and directory names excepted) and says which
// flag it was.
TEST(Options, ABadValueOfEveryOptionIsRefusedNamingTheFlag) {
  for (const RunOption& opt : run_options()) {
    if (!opt.text || opt.placeholder == "FILE" || opt.placeholder == "DIR") continue;
    RunOptions o;
    o.queue = "mutex_cv";
    o.*opt.text = "bogus";
    try {
      (void)build_matrix(default_registry(), o);
      ADD_FAILURE() << opt.name() << " accepted 'bogus'";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(opt.name() + ": ", 0), 0u) << e.what();
    }
  }
}

TEST(Options, TheListsAreTheMatrixDimensionsInMatrixOrder) {
  std::vector<std::string> lists;
  for (const RunOption& opt : run_options()) {
    if (opt.list) lists.push_back(opt.name());
    if (opt.applies) {  // asked of the run's workload, which must be set by then
      EXPECT_NE(std::find(lists.begin(), lists.end(), "--workload"), lists.end()) << opt.name();
    }
  }
  EXPECT_EQ(lists, (std::vector<std::string>{"--queue", "--workload", "--producers", "--consumers",
                                             "--capacity", "--rate", "--fanout", "--depth",
                                             "--keys", "--item-bytes", "--backpressure",
                                             "--shutdown", "--latency", "--placement"}));
}

// ---- The matrix --------------------------------------------------------------------------------

RunOptions big_matrix() {
  RunOptions o;
  o.queue = "mutex_cv,split_cv,moodycamel+park";
  o.workload = "steady,burst";
  o.producers = "1,2,4";
  o.consumers = "1";
  o.rate = "10k";
  o.peak_rate = "100k";
  o.duration = "1s";
  o.reps = "3";
  o.warmup = "1";
  return o;
}

using Key = std::tuple<std::string, int, std::size_t, int>;  // queue, workload, producers, rep
Key key(const RunConfig& c) {
  return {c.queue, static_cast<int>(c.workload), c.producers, c.rep};
}

TEST(Matrix, CrossProductInStableOrderWithWarmupsFirst) {
  const Matrix m = build_matrix(default_registry(), big_matrix());
  ASSERT_EQ(m.runs.size(), 3u * 2 * 3 * 4);  // queues x workloads x producers x (1 + 3 reps)
  EXPECT_EQ(m.runs[0].rep, -1);
  EXPECT_EQ(m.runs[1].rep, 0);
  EXPECT_EQ(m.runs[3].rep, 2);
  EXPECT_EQ(m.runs[4].rep, -1);
  EXPECT_EQ(m.runs.front().queue, "mutex_cv");
  EXPECT_EQ(m.runs.back().queue, "moodycamel+park");
}

// The order of the runs is part of the interface (scripts, suites and --shard rely on it): every
// list-valued option multiplies in, the first outermost, in the order below; --rate applies to
// steady, burst and pingpong only, --fanout/--depth to tree only, --keys to all but tree (a tree
// run has keys 0); the repetitions of one configuration are innermost. Combinations a queue
// cannot serve are left out without changing the order of the others.
std::string describe_run(const RunConfig& c) {
  return c.queue + " " + std::string(to_string(c.workload)) + " " + std::to_string(c.producers) +
         "x" + std::to_string(c.consumers) + " cap " + std::to_string(c.capacity) + " rate " +
         std::to_string(static_cast<long>(c.rate)) + " tree " + std::to_string(c.fanout) + "^" +
         std::to_string(c.depth) + " keys " + std::to_string(c.keys) + " " +
         std::string(to_string(c.backpressure)) + "/" + std::to_string(c.push_timeout.count()) +
         " " + std::string(to_string(c.shutdown)) + "/" + std::to_string(c.poll_interval.count()) +
         (c.record_latency ? " on" : " off") + " rep " + std::to_string(c.rep);
}

TEST(Matrix, OrderOfAManyDimensionalMatrixIsPinned) {
  RunOptions o;
  o.queue = "mutex_cv,boost_spsc+spin";
  o.workload = "steady,flood,tree,pingpong";
  o.producers = "1,2";
  o.consumers = "2,1";
  o.capacity = "64,unbounded";
  o.rate = "10k,20k";
  o.fanout = "3,2";
  o.depth = "1,0";
  o.keys = "4,0";
  o.backpressure = "drop,timeout:2ms";
  o.shutdown = "poll:3ms,close";
  o.latency = "off,on";
  o.duration = "1s";
  o.reps = "2";
  o.warmup = "1";
  const Matrix m = build_matrix(default_registry(), o);

  // Every combination in the reference order; the matrix is this list without the skipped ones.
  const std::vector<std::string> queues = {"mutex_cv", "boost_spsc+spin"};
  const std::vector<WorkloadKind> workloads = {WorkloadKind::steady, WorkloadKind::flood,
                                               WorkloadKind::tree, WorkloadKind::pingpong};
  const std::vector<std::size_t> two_one = {2, 1}, caps = {64, unbounded};
  std::vector<std::string> all;
  for (const auto& q : queues)
    for (WorkloadKind w : workloads)
      for (std::size_t p : {1, 2})
        for (std::size_t c : two_one)
          for (std::size_t cap : caps)
            for (double rate : {10e3, 20e3})
              for (std::size_t f : {3, 2})
                for (std::size_t d : {1, 0})
                  for (std::size_t k : {4, 0})
                    for (Backpressure b : {Backpressure::drop, Backpressure::timeout})
                      for (Shutdown s : {Shutdown::poll, Shutdown::close})
                        for (bool lat : {false, true}) {
                          const bool tree = w == WorkloadKind::tree;
                          if ((!is_paced(w) && rate != 10e3) || (!tree && (f != 3 || d != 1)) ||
                              (tree && k != 0))
                            continue;
                          RunConfig cfg;
                          cfg.queue = q;
                          cfg.workload = w;
                          cfg.producers = p;
                          cfg.consumers = c;
                          cfg.capacity = cap;
                          cfg.rate = rate;
                          cfg.fanout = f;
                          cfg.depth = d;
                          cfg.keys = tree ? 0 : k;
                          cfg.backpressure = b;
                          cfg.push_timeout =
                              std::chrono::milliseconds(b == Backpressure::drop ? 0 : 2);
                          cfg.shutdown = s;
                          cfg.poll_interval =
                              std::chrono::milliseconds(s == Shutdown::poll ? 3 : 0);
                          cfg.record_latency = lat;
                          for (int r = -1; r < 2; ++r) {
                            cfg.rep = r;
                            all.push_back(describe_run(cfg));
                          }
                        }
  ASSERT_EQ(m.runs.size(), 1704u);   // 568 configurations x (1 warm-up + 2 reps)
  ASSERT_EQ(m.skipped.size(), 29u);  // one line per skipped combination, in matrix order
  EXPECT_EQ(m.skipped.front(),
            "mutex_cv steady 1x2: --latency off is for flood and tree (steady needs the clock for "
            "every send)");
  EXPECT_EQ(m.skipped[9],
            "boost_spsc+spin steady 1x2: boost_spsc+spin serves at most 1 producer(s) x 1 "
            "consumer(s) (--producers/--consumers)");
  EXPECT_EQ(m.skipped[11],
            "boost_spsc+spin steady 1x1: boost_spsc+spin needs a capacity (no "
            "unbounded mode)");
  EXPECT_EQ(m.skipped.back(),
            "boost_spsc+spin pingpong 2x1: pingpong runs one client and one server (--producers 1 "
            "--consumers 1)");
  std::size_t next = 0;  // m.runs must be a subsequence of `all`
  for (const RunConfig& c : m.runs) {
    const std::string d = describe_run(c);
    while (next < all.size() && all[next] != d)
      ++next;
    ASSERT_LT(next, all.size()) << d << " is out of order or not in the reference";
    ++next;
    EXPECT_EQ(c.duration, std::chrono::seconds(1));
    EXPECT_EQ(c.seed, 1u);
  }
  EXPECT_EQ(describe_run(m.runs.front()),
            "mutex_cv steady 1x2 cap 64 rate 10000 tree 3^1 keys 4 drop/0 poll/3000000 on rep -1");
  EXPECT_EQ(describe_run(m.runs.back()),
            "boost_spsc+spin pingpong 1x1 cap 64 rate 10000 tree 3^1 keys 0 timeout/2000000 "
            "close/0 on rep 1");
}

// --shard auto: the part from a job array's environment (a fake one here).
std::string auto_shard(const std::string& spec, const std::map<std::string, std::string>& vars) {
  return shard_from_environment(spec, [&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string auto_shard_error(const std::string& spec,
                             const std::map<std::string, std::string>& vars) {
  try {
    return "accepted " + auto_shard(spec, vars);
  } catch (const UsageError& e) {
    return e.what();
  }
}

TEST(Shard, AutoTakesThePartFromAKubernetesIndexedJob) {
  EXPECT_EQ(auto_shard("auto/4", {{"JOB_COMPLETION_INDEX", "0"}}), "1/4");
  EXPECT_EQ(auto_shard("auto/4", {{"JOB_COMPLETION_INDEX", "3"}}), "4/4");
  EXPECT_EQ(auto_shard("auto", {{"JOB_COMPLETION_INDEX", "2"}, {"QBENCH_SHARD_COUNT", "5"}}),
            "3/5");
  // The pods see their index, not the count.
  const std::string no_count = auto_shard_error("auto", {{"JOB_COMPLETION_INDEX", "2"}});
  EXPECT_EQ(no_count.rfind("--shard: 'auto' is not accepted", 0), 0u) << no_count;
  EXPECT_NE(no_count.find("QBENCH_SHARD_COUNT"), std::string::npos) << no_count;
  // An index beyond the count is no part.
  const std::string beyond = auto_shard_error("auto/4", {{"JOB_COMPLETION_INDEX", "4"}});
  EXPECT_NE(beyond.find("gives 5/4"), std::string::npos) << beyond;
  EXPECT_NE(auto_shard_error("auto/4", {{"JOB_COMPLETION_INDEX", "x"}}).find("'x'"),
            std::string::npos);
}

TEST(Shard, AutoTakesThePartFromASlurmJobArray) {
  // --array=1-8: ids 1..8, min 1, count 8.
  EXPECT_EQ(auto_shard("auto", {{"SLURM_ARRAY_TASK_ID", "1"},
                                {"SLURM_ARRAY_TASK_MIN", "1"},
                                {"SLURM_ARRAY_TASK_COUNT", "8"}}),
            "1/8");
  // --array=0-3: ids from 0.
  EXPECT_EQ(auto_shard("auto", {{"SLURM_ARRAY_TASK_ID", "3"},
                                {"SLURM_ARRAY_TASK_MIN", "0"},
                                {"SLURM_ARRAY_TASK_COUNT", "4"}}),
            "4/4");
  // auto/N overrides the count.
  EXPECT_EQ(auto_shard("auto/2", {{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "9"}}),
            "2/2");
}

TEST(Shard, AutoOutsideAJobArrayIsAClearError) {
  const std::string e = auto_shard_error("auto", {});
  EXPECT_EQ(e.rfind("--shard: 'auto' is not accepted; expected K/N, or auto inside", 0), 0u) << e;
  EXPECT_NE(e.find("neither is set here"), std::string::npos) << e;
  EXPECT_NE(auto_shard_error("auto/0", {{"JOB_COMPLETION_INDEX", "0"}}).find("auto/N with 1"),
            std::string::npos);
}

TEST(Matrix, ShardsCoverTheMatrixExactlyOnce) {
  const Matrix full = build_matrix(default_registry(), big_matrix());
  for (int n : {1, 2, 3, 5, 7, 18, 25}) {
    std::map<Key, int> seen;
    std::vector<std::size_t> sizes;
    for (int k = 1; k <= n; ++k) {
      RunOptions o = big_matrix();
      o.shard = std::to_string(k) + "/" + std::to_string(n);
      const Matrix part = build_matrix(default_registry(), o);
      sizes.push_back(part.runs.size());
      for (std::size_t i = 0; i < part.runs.size(); ++i) {
        ++seen[key(part.runs[i])];
        // A configuration's warm-up stays with, and before, its repetitions.
        if (part.runs[i].rep >= 0) {
          ASSERT_GT(i, 0u);
          EXPECT_EQ(part.runs[i - 1].rep, part.runs[i].rep - 1);
        }
      }
      // Deterministic: the same part twice is the same list.
      const Matrix again = build_matrix(default_registry(), o);
      ASSERT_EQ(again.runs.size(), part.runs.size());
      for (std::size_t i = 0; i < part.runs.size(); ++i)
        EXPECT_EQ(key(again.runs[i]), key(part.runs[i]));
    }
    EXPECT_EQ(seen.size(), full.runs.size()) << n << " parts";
    for (const auto& [k, times] : seen)
      EXPECT_EQ(times, 1) << n << " parts";
    // Balanced: equal-cost configurations differ by at most one per part.
    const auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
    EXPECT_LE(*hi - *lo, 4u) << n << " parts";  // 4 runs per configuration
  }
}

// --interleave: the same runs round by round, each round in matrix order (warm-ups first), and
// in a part of --shard the part's own runs, so that the parts still cover the matrix once.
TEST(Matrix, InterleaveRunsTheSameRunsRoundByRound) {
  const Matrix plain = build_matrix(default_registry(), big_matrix());
  RunOptions o = big_matrix();
  o.interleave = true;
  const Matrix m = build_matrix(default_registry(), o);
  ASSERT_EQ(m.runs.size(), plain.runs.size());
  const std::size_t configurations = plain.runs.size() / 4;  // 1 warm-up + 3 reps each
  for (std::size_t i = 0; i < m.runs.size(); ++i) {
    const std::size_t round = i / configurations, config = i % configurations;
    // plain: configuration `config`'s runs are 4 consecutive ones, its warm-up first.
    EXPECT_EQ(key(m.runs[i]), key(plain.runs[config * 4 + round])) << i;
    EXPECT_EQ(m.runs[i].rep, static_cast<int>(round) - 1) << i;
  }
  for (int k = 1; k <= 3; ++k) {
    RunOptions part = big_matrix(), interleaved_part = big_matrix();
    part.shard = interleaved_part.shard = std::to_string(k) + "/3";
    interleaved_part.interleave = true;
    std::vector<Key> a, b;
    for (const RunConfig& c : build_matrix(default_registry(), part).runs)
      a.push_back(key(c));
    for (const RunConfig& c : build_matrix(default_registry(), interleaved_part).runs)
      b.push_back(key(c));
    ASSERT_EQ(a.size(), b.size()) << k;
    EXPECT_FALSE(std::equal(a.begin(), a.end(), b.begin())) << k << ": not interleaved";
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b) << k;
  }
}

TEST(Matrix, ShardBalancesByPlannedTime) {
  // One long configuration and several short ones: the long one gets a part of its own.
  RunOptions o;
  o.queue = "mutex_cv";
  o.duration = "1s";
  o.producers = "1,2,3,4,5";
  o.reps = "1";
  o.warmup = "0";
  Matrix whole = build_matrix(default_registry(), o);
  ASSERT_EQ(whole.runs.size(), 5u);
  o.shard = "1/2";
  const auto a = build_matrix(default_registry(), o).runs.size();
  o.shard = "2/2";
  const auto b = build_matrix(default_registry(), o).runs.size();
  EXPECT_EQ(a + b, 5u);
  EXPECT_EQ(a, 3u);  // greedy, ties to the lowest part: 1,2 | 1 ... -> parts of 3 and 2
}

TEST(Matrix, PlannedTimeOfRunsEndedByDurationOrByItems) {
  using namespace std::chrono_literals;
  RunConfig c;
  c.duration = 1500ms;
  EXPECT_DOUBLE_EQ(planned_seconds(c), 1.5);
  c.items = 200'000;  // an item count ends the run instead
  c.workload = WorkloadKind::steady;
  c.rate = 50'000;
  EXPECT_DOUBLE_EQ(planned_seconds(c), 4.0);  // paced: items / rate
  c.workload = WorkloadKind::flood;
  EXPECT_DOUBLE_EQ(planned_seconds(c), 0.2);  // at 1M/s
  c.service_time = 10us;
  c.consumers = 2;
  EXPECT_DOUBLE_EQ(planned_seconds(c), 0.2 + 1.0);  // plus 200k x 10 us over 2 consumers
  c.workload = WorkloadKind::tree;                  // fanout 2, depth 4: 31 nodes a root
  c.service_time = 0ns;
  c.items = 1000;
  ASSERT_EQ(c.nodes_per_root(), 31u);
  EXPECT_DOUBLE_EQ(planned_seconds(c), 31'000 / 1e6);
}

TEST(Matrix, BadShardSpecsAreRefused) {
  for (const char* spec : {"0/3", "4/3", "a/b", "3", "1/0", "/2", "1/"}) {
    RunOptions o = big_matrix();
    o.shard = spec;
    EXPECT_THROW(build_matrix(default_registry(), o), UsageError) << spec;
  }
}

}  // namespace
}  // namespace qb::cli
