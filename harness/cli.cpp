#include "harness/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "core/units.hpp"
#include "harness/build_info.hpp"
#include "harness/calibrate.hpp"
#include "harness/system_info.hpp"
#include "results/console.hpp"
#include "results/csv.hpp"
#include "results/hgrm.hpp"

namespace qb::cli {

std::string version_string() {
  return std::string("qbench ") + build_info::version + " (" + build_info::git_sha + ", " +
         build_info::build_type +
         (build_info::sanitizer[0] ? std::string(", sanitizer ") + build_info::sanitizer : "") +
         ")";
}

void add_run_options(CLI::App& run, RunOptions& o) {
  run.add_option("-q,--queue", o.queue, "queue name(s), comma-separated, or 'all' (qbench list)")
      ->required();
  run.add_option("-w,--workload", o.workload, "steady, burst, flood, tree or pingpong (list)")
      ->capture_default_str();
  run.add_option("-p,--producers", o.producers, "producer threads (list)")->capture_default_str();
  run.add_option("-c,--consumers", o.consumers, "consumer threads (list)")->capture_default_str();
  run.add_option("--capacity", o.capacity, "queue capacity, or 'unbounded' (list)")
      ->capture_default_str();
  run.add_option("-r,--rate", o.rate, "steady rate / burst base rate, items/s total (list): 50k")
      ->capture_default_str();
  run.add_option("--peak-rate", o.peak_rate, "burst peak rate, items/s total")
      ->capture_default_str();
  run.add_option("--burst", o.burst, "burst length: 100ms")->capture_default_str();
  run.add_option("--period", o.period, "time from one burst to the next: 1s")
      ->capture_default_str();
  run.add_option("--gaps", o.gaps, "gaps between sends: fixed or exponential (Poisson)")
      ->capture_default_str();
  run.add_option("--pacing", o.pacing,
                 "how paced producers wait: sleep (cheap, ~30-50 us late on a VM) or spin "
                 "(precise, burns a core)")
      ->capture_default_str();
  run.add_option("--fanout", o.fanout, "tree: children per node (list)")->capture_default_str();
  run.add_option("--depth", o.depth, "tree: levels below the root (list)")->capture_default_str();
  run.add_option("--keys", o.keys,
                 "keyed items: keys drawn uniformly from this many, applied to per-key state by "
                 "consumers (0: no keys) (list)")
      ->capture_default_str();
  run.add_option("--work", o.work, "consumer service time per item: none, fixed:10us, exp:10us")
      ->capture_default_str();
  run.add_option("--work-mode", o.work_mode, "spin (CPU-bound work) or sleep (I/O-like wait)")
      ->capture_default_str();
  run.add_option("-b,--backpressure", o.backpressure,
                 "when full: block, timeout:<duration> (count a rejection), drop (list)")
      ->capture_default_str();
  run.add_option("--shutdown", o.shutdown,
                 "how consumers learn to stop: close (close() and drain), poison (one pill per "
                 "consumer after the last item), poll:<interval> (a flag checked between timed "
                 "pops) (list)")
      ->capture_default_str();
  run.add_option("-d,--duration", o.duration, "run length: 5s")->capture_default_str();
  run.add_option("-n,--items", o.items, "end after this many items offered (overrides --duration)");
  run.add_option("--reps", o.reps, "repetitions per configuration")->capture_default_str();
  run.add_option("--warmup", o.warmup, "warm-up repetitions, run but not reported")
      ->capture_default_str();
  run.add_option("-o,--out", o.out, "CSV file: created, or appended to if it has the same schema");
  run.add_flag("--overwrite", o.overwrite, "replace --out instead of appending");
  run.add_option("--timeseries", o.timeseries, "CSV file for depth/RSS/latency samples over time");
  run.add_option("--hgrm", o.hgrm,
                 "directory for one HdrHistogram percentile distribution (.hgrm) file per run");
  run.add_option("--stall-timeout", o.stall_timeout, "end a run that consumes nothing this long")
      ->capture_default_str();
  run.add_option("--max-rss", o.max_rss, "end a run whose RSS crosses this (default: half of RAM)");
  run.add_option("--sample-interval", o.sample_interval, "sampler period")->capture_default_str();
  run.add_option("--seed", o.seed, "seed for Poisson gaps and service times")
      ->capture_default_str();
  run.add_option("--shard", o.shard,
                 "run only part K of N of the matrix (K/N, e.g. 2/4): deterministic, balanced "
                 "parts whose CSVs concatenate");
  run.add_option("--latency", o.latency,
                 "latency recording: on, or off (flood and tree; to measure its cost) (list)")
      ->capture_default_str();
  run.add_flag("--pin", o.pin,
               "pin each producer and consumer to a CPU, alternating over the allowed CPUs");
  run.add_flag("--calibrate", o.calibrate,
               "measure this machine's floor first (qbench calibrate) and record it in every row");
  run.add_flag("--quiet", o.quiet, "no table on stdout (errors still go to stderr)");
}

namespace {

[[noreturn]] void bad(const std::string& flag, const std::string& value,
                      const std::string& accepted) {
  throw UsageError(flag + ": '" + value + "' is not accepted; expected " + accepted);
}

std::vector<std::string> list_of(const std::string& flag, const std::string& v) {
  auto parts = units::split_list(v);
  for (auto& p : parts)
    if (p.empty()) bad(flag, v, "a comma-separated list without empty items");
  return parts;
}

std::size_t threads_value(const std::string& flag, const std::string& s) {
  auto n = units::parse_count(s);
  if (!n || *n < 1 || *n > 256) bad(flag, s, "a whole number of threads from 1 to 256");
  return static_cast<std::size_t>(*n);
}

double rate_value(const std::string& flag, const std::string& s) {
  auto r = units::parse_rate(s);
  if (!r || *r <= 0 || *r > 1e10)
    bad(flag, s, "a rate > 0 and <= 10G items/s, such as 50k or 1.5M");
  return *r;
}

std::chrono::nanoseconds duration_value(const std::string& flag, const std::string& s,
                                        std::chrono::nanoseconds lo, std::chrono::nanoseconds hi,
                                        const std::string& range) {
  auto d = units::parse_duration(s);
  if (!d || *d < lo || *d > hi)
    bad(flag, s, "a duration " + range + " with a unit (ns, us, ms, s, min)");
  return *d;
}

std::uint64_t count_value(const std::string& flag, const std::string& s, std::uint64_t lo,
                          std::uint64_t hi) {
  auto n = units::parse_count(s);
  if (!n || *n < lo || *n > hi)
    bad(flag, s, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return *n;
}

struct Policy {
  Backpressure kind;
  std::chrono::nanoseconds timeout{0};
};

Policy policy_value(const std::string& s) {
  if (s == "block") return {Backpressure::block};
  if (s == "drop") return {Backpressure::drop};
  if (s.rfind("timeout:", 0) == 0) {
    auto d = units::parse_duration(s.substr(8));
    if (d && d->count() > 0 && *d <= std::chrono::hours(1)) return {Backpressure::timeout, *d};
  }
  bad("--backpressure", s, "block, drop or timeout:<duration> such as timeout:5ms");
}

// --shard K/N: keeps the K-th of N parts of the matrix. Parts are whole configurations (a
// configuration's warm-up and repetitions stay together, in order), assigned greedily in matrix
// order to the part with the least planned run time so far (ties to the lowest part): the
// same matrix always splits the same way, the parts are balanced, and together they cover the
// matrix exactly once.
void apply_shard(Matrix& m, const std::string& spec) {
  const auto slash = spec.find('/');
  std::optional<std::uint64_t> k, n;
  if (slash != std::string::npos) {
    k = units::parse_count(spec.substr(0, slash));
    n = units::parse_count(spec.substr(slash + 1));
  }
  if (!k || !n || *n < 1 || *n > 10'000 || *k < 1 || *k > *n)
    bad("--shard", spec, "K/N with 1 <= K <= N <= 10000, such as 2/4");
  std::vector<double> load(*n, 0.0);
  std::vector<RunConfig> mine;
  for (std::size_t i = 0; i < m.runs.size();) {
    // One configuration: the consecutive runs that differ only in `rep`.
    std::size_t j = i + 1;
    while (j < m.runs.size() && m.runs[j].rep > m.runs[j - 1].rep)
      ++j;
    double cost = 0;
    for (std::size_t r = i; r < j; ++r) {
      const RunConfig& c = m.runs[r];
      cost += c.items ? static_cast<double>(c.items) / 1e6
                      : static_cast<double>(c.duration.count()) * 1e-9;
    }
    const auto part =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[part] += cost;
    if (part + 1 == *k) mine.insert(mine.end(), m.runs.begin() + i, m.runs.begin() + j);
    i = j;
  }
  m.runs = std::move(mine);
  m.shard = spec;
}

struct ShutdownChoice {
  Shutdown kind;
  std::chrono::nanoseconds poll{0};
};

ShutdownChoice shutdown_value(const std::string& s) {
  if (s == "close") return {Shutdown::close};
  if (s == "poison") return {Shutdown::poison};
  if (s.rfind("poll:", 0) == 0) {
    auto d = units::parse_duration(s.substr(5));
    if (d && *d >= std::chrono::microseconds(1) && *d <= std::chrono::seconds(10))
      return {Shutdown::poll, *d};
  }
  bad("--shutdown", s, "close, poison or poll:<interval> from 1us to 10s, such as poll:1ms");
}

}  // namespace

Matrix build_matrix(const Registry& reg, const RunOptions& o) {
  Matrix m;
  m.out = o.out;
  m.overwrite = o.overwrite;
  m.timeseries = o.timeseries;
  m.hgrm = o.hgrm;
  m.quiet = o.quiet;
  m.calibrate = o.calibrate;

  // Queues.
  std::vector<const QueueEntry*> queues;
  for (const auto& name : list_of("--queue", o.queue)) {
    if (name == "all") {
      for (const auto& e : reg.entries())
        queues.push_back(&e);
      continue;
    }
    const QueueEntry* e = reg.find(name);
    if (!e) {
      throw UsageError("--queue: unknown queue '" + name + "'; did you mean '" + reg.nearest(name) +
                       "'? (qbench list shows all " + std::to_string(reg.entries().size()) + ")");
    }
    queues.push_back(e);
  }

  std::vector<WorkloadKind> workloads;
  for (const auto& w : list_of("--workload", o.workload)) {
    if (w == "steady")
      workloads.push_back(WorkloadKind::steady);
    else if (w == "burst")
      workloads.push_back(WorkloadKind::burst);
    else if (w == "flood")
      workloads.push_back(WorkloadKind::flood);
    else if (w == "tree")
      workloads.push_back(WorkloadKind::tree);
    else if (w == "pingpong")
      workloads.push_back(WorkloadKind::pingpong);
    else
      bad("--workload", w, "steady, burst, flood, tree or pingpong");
  }
  const bool any_tree =
      std::find(workloads.begin(), workloads.end(), WorkloadKind::tree) != workloads.end();
  std::vector<std::pair<std::size_t, std::size_t>> trees;  // (fanout, depth)
  {
    std::vector<std::size_t> fanouts, depths;
    for (const auto& f : list_of("--fanout", o.fanout))
      fanouts.push_back(static_cast<std::size_t>(count_value("--fanout", f, 1, 64)));
    for (const auto& d : list_of("--depth", o.depth))
      depths.push_back(static_cast<std::size_t>(count_value("--depth", d, 0, 24)));
    for (std::size_t f : fanouts)
      for (std::size_t d : depths) {
        RunConfig probe;
        probe.fanout = f;
        probe.depth = d;
        if (any_tree && probe.nodes_per_root() > max_tree_nodes)
          bad("--depth", o.depth,
              "a depth whose tree with --fanout " + std::to_string(f) + " has at most 16M (2^24) " +
                  "nodes per root");
        trees.emplace_back(f, d);
      }
  }
  std::vector<std::size_t> key_counts;
  for (const auto& k : list_of("--keys", o.keys))
    key_counts.push_back(static_cast<std::size_t>(count_value("--keys", k, 0, max_keys)));
  std::vector<std::size_t> producers, consumers, capacities;
  for (const auto& p : list_of("--producers", o.producers))
    producers.push_back(threads_value("--producers", p));
  for (const auto& c : list_of("--consumers", o.consumers))
    consumers.push_back(threads_value("--consumers", c));
  for (const auto& c : list_of("--capacity", o.capacity)) {
    if (c == "unbounded") {
      capacities.push_back(unbounded);
      continue;
    }
    auto n = units::parse_count(c);
    if (!n || *n > (std::uint64_t{1} << 32))
      bad("--capacity", c, "a whole number from 1 to 4G, or 'unbounded'");
    if (*n == 0)
      bad("--capacity", c,
          "at least 1 (a bounded queue of capacity 0 holds nothing), or 'unbounded'");
    capacities.push_back(static_cast<std::size_t>(*n));
  }
  std::vector<double> rates;
  for (const auto& r : list_of("--rate", o.rate))
    rates.push_back(rate_value("--rate", r));
  const double peak = rate_value("--peak-rate", o.peak_rate);
  const auto burst = duration_value("--burst", o.burst, std::chrono::microseconds(1),
                                    std::chrono::hours(24), "from 1us to 24h");
  const auto period = duration_value("--period", o.period, std::chrono::microseconds(1),
                                     std::chrono::hours(24), "from 1us to 24h");
  const bool any_burst =
      std::find(workloads.begin(), workloads.end(), WorkloadKind::burst) != workloads.end();
  if (any_burst) {
    if (burst > period)
      bad("--burst", o.burst, "a burst no longer than --period (" + o.period + ")");
    for (double r : rates)
      if (peak < r) bad("--peak-rate", o.peak_rate, "a peak rate >= --rate (the base rate)");
  }
  Gaps gaps;
  if (o.gaps == "fixed")
    gaps = Gaps::fixed;
  else if (o.gaps == "exponential" || o.gaps == "poisson")
    gaps = Gaps::exponential;
  else
    bad("--gaps", o.gaps, "fixed or exponential");

  Pacing pacing;
  if (o.pacing == "sleep")
    pacing = Pacing::sleep;
  else if (o.pacing == "spin")
    pacing = Pacing::spin;
  else
    bad("--pacing", o.pacing, "sleep or spin");

  ServiceDist service = ServiceDist::none;
  std::chrono::nanoseconds service_time{0};
  if (o.work != "none") {
    const auto colon = o.work.find(':');
    const std::string kind = o.work.substr(0, colon);
    if (colon == std::string::npos || (kind != "fixed" && kind != "exp"))
      bad("--work", o.work, "none, fixed:<duration> or exp:<duration>, such as fixed:10us");
    service = kind == "fixed" ? ServiceDist::fixed : ServiceDist::exponential;
    auto d = units::parse_duration(o.work.substr(colon + 1));
    if (!d || d->count() <= 0 || *d > std::chrono::seconds(10))
      bad("--work", o.work, "a service time from 1ns to 10s, such as fixed:10us");
    service_time = *d;
  }
  ServiceMode mode;
  if (o.work_mode == "spin")
    mode = ServiceMode::spin;
  else if (o.work_mode == "sleep")
    mode = ServiceMode::sleep;
  else
    bad("--work-mode", o.work_mode, "spin or sleep");

  std::vector<ShutdownChoice> shutdowns;
  for (const auto& x : list_of("--shutdown", o.shutdown))
    shutdowns.push_back(shutdown_value(x));

  std::vector<Policy> policies;
  for (const auto& b : list_of("--backpressure", o.backpressure))
    policies.push_back(policy_value(b));

  const auto duration = duration_value("--duration", o.duration, std::chrono::milliseconds(1),
                                       std::chrono::hours(24), "from 1ms to 24h");
  const std::uint64_t items =
      o.items.empty() ? 0 : count_value("--items", o.items, 1, std::uint64_t{1} << 39);
  const int reps = static_cast<int>(count_value("--reps", o.reps, 1, 10'000));
  const int warmup = static_cast<int>(count_value("--warmup", o.warmup, 0, 1'000));
  const auto stall =
      duration_value("--stall-timeout", o.stall_timeout, std::chrono::milliseconds(10),
                     std::chrono::hours(1), "from 10ms to 1h");
  if (service != ServiceDist::none && stall < 10 * service_time)
    bad("--stall-timeout", o.stall_timeout,
        "at least 10x the --work service time (" + o.work + ")");
  std::uint64_t max_rss = physical_memory_bytes() / 2;
  if (!o.max_rss.empty()) {
    auto b = units::parse_bytes(o.max_rss);
    if (!b || *b < (std::uint64_t{16} << 20))
      bad("--max-rss", o.max_rss, "a size of at least 16M, such as 512M or 4G");
    max_rss = *b;
  }
  const auto sample =
      duration_value("--sample-interval", o.sample_interval, std::chrono::milliseconds(1),
                     std::chrono::seconds(10), "from 1ms to 10s");
  const std::uint64_t seed = count_value("--seed", o.seed, 0, ~std::uint64_t{0} >> 1);
  std::vector<bool> latency_modes;
  for (const auto& v : list_of("--latency", o.latency)) {
    if (v == "on")
      latency_modes.push_back(true);
    else if (v == "off")
      latency_modes.push_back(false);
    else
      bad("--latency", v, "on or off, or both: on,off");
  }
  if (o.overwrite && o.out.empty())
    throw UsageError("--overwrite: needs --out FILE (it replaces that file instead of appending)");

  // The cross product, in a stable order; shapes a queue cannot serve are skipped and listed.
  for (const QueueEntry* q : queues)
    for (WorkloadKind w : workloads)
      for (std::size_t p : producers)
        for (std::size_t c : consumers)
          for (std::size_t cap : capacities)
            for (double rate : (w == WorkloadKind::flood || w == WorkloadKind::tree
                                    ? std::vector<double>{rates.front()}
                                    : rates))
              for (auto [fanout, depth] :
                   (w == WorkloadKind::tree ? trees : decltype(trees){trees.front()}))
                for (std::size_t keys :
                     (w == WorkloadKind::tree ? std::vector<std::size_t>{0} : key_counts))
                  for (const Policy& pol : policies)
                    for (const ShutdownChoice& sd : shutdowns)
                      for (const bool record : latency_modes) {
                        const std::string what = std::string(q->name) + " " +
                                                 std::string(to_string(w)) + " " +
                                                 std::to_string(p) + "x" + std::to_string(c);
                        if (w == WorkloadKind::pingpong && (p != 1 || c != 1)) {
                          m.skipped.push_back(what +
                                              ": pingpong runs one client and one server "
                                              "(--producers 1 --consumers 1)");
                          continue;
                        }
                        if (!record && w != WorkloadKind::flood && w != WorkloadKind::tree) {
                          m.skipped.push_back(what + ": --latency off is for flood and tree (" +
                                              std::string(to_string(w)) +
                                              (w == WorkloadKind::pingpong
                                                   ? " measures round trips)"
                                                   : " needs the clock for every send)"));
                          continue;
                        }
                        if (w == WorkloadKind::tree && !q->traits.serves(p + c, c)) {
                          m.skipped.push_back(what + ": " + std::string(q->name) +
                                              " serves at most " +
                                              std::to_string(q->traits.max_producers) +
                                              " producer(s), and tree consumers push too");
                          continue;
                        }
                        if (!q->traits.serves(p, c)) {
                          m.skipped.push_back(
                              what + ": " + std::string(q->name) + " serves at most " +
                              std::to_string(q->traits.max_producers) + " producer(s) x " +
                              std::to_string(q->traits.max_consumers) +
                              " consumer(s) (--producers/--consumers)");
                          continue;
                        }
                        if (cap == unbounded && !q->traits.allows_unbounded) {
                          m.skipped.push_back(what + ": " + std::string(q->name) +
                                              " needs a capacity (no unbounded mode)");
                          continue;
                        }
                        RunConfig cfg;
                        cfg.queue = std::string(q->name);
                        cfg.workload = w;
                        cfg.producers = p;
                        cfg.consumers = c;
                        cfg.capacity = cap;
                        cfg.rate = rate;
                        cfg.fanout = fanout;
                        cfg.depth = depth;
                        cfg.keys = keys;
                        cfg.peak_rate = peak;
                        cfg.burst = burst;
                        cfg.period = period;
                        cfg.gaps = gaps;
                        cfg.pacing = pacing;
                        cfg.service = service;
                        cfg.service_time = service_time;
                        cfg.service_mode = mode;
                        cfg.backpressure = pol.kind;
                        cfg.push_timeout = pol.timeout;
                        cfg.shutdown = sd.kind;
                        cfg.poll_interval = sd.poll;
                        cfg.duration = duration;
                        cfg.items = items;
                        cfg.stall_timeout = stall;
                        cfg.max_rss_bytes = max_rss;
                        cfg.sample_interval = sample;
                        cfg.keep_samples = !o.timeseries.empty();
                        cfg.record_latency = record;
                        cfg.pin = o.pin;
                        cfg.seed = seed;
                        for (int r = -warmup; r < reps; ++r) {
                          cfg.rep = r;
                          m.runs.push_back(cfg);
                        }
                      }
  {  // one line per skipped combination, whatever else multiplied it
    std::vector<std::string> unique;
    for (auto& x : m.skipped)
      if (std::find(unique.begin(), unique.end(), x) == unique.end()) unique.push_back(x);
    m.skipped = std::move(unique);
  }
  if (m.runs.empty()) {
    throw UsageError("--queue/--producers/--consumers/--capacity: no combination can run: " +
                     (m.skipped.empty() ? std::string("empty matrix") : m.skipped.front()));
  }
  if (!o.shard.empty()) apply_shard(m, o.shard);
  return m;
}

int list_command(const Registry& reg, std::ostream& out) {
  out << "queues (" << reg.entries().size() << "):\n";
  std::size_t w = 0;
  for (const auto& e : reg.entries())
    w = std::max(w, e.name.size());
  for (const auto& e : reg.entries()) {
    std::string shape;
    if (e.traits.max_producers || e.traits.max_consumers)
      shape = ", " + std::to_string(e.traits.max_producers) + "x" +
              std::to_string(e.traits.max_consumers) + " only";
    out << "  " << e.name << std::string(w + 2 - e.name.size(), ' ') << "order "
        << to_string(e.traits.order) << ", bound " << to_string(e.traits.bound)
        << (e.traits.allows_unbounded ? " (or unbounded)" : "") << ", "
        << to_string(e.traits.progress) << shape << (e.traits.can_stall ? ", CAN DEADLOCK" : "")
        << "\n"
        << std::string(w + 4, ' ') << e.traits.summary << "\n";
  }
  out << "\nworkloads:\n"
         "  steady   constant total rate (--rate) split over producers; --gaps fixed|exponential\n"
         "  burst    base --rate plus --peak-rate for --burst every --period\n"
         "  flood    no pacing: producers push as fast as the queue takes items\n"
         "  tree     fork/join: producers flood roots; a consumed node spawns --fanout children "
         "down to --depth,\n           pushed back by the consumer (ws_pool: its own deque); a "
         "full "
         "queue runs them inline\n"
         "  pingpong two threads, two queues, one item in flight: the round trip (1x1)\n"
         "\nkeyed items (--keys K): consumers apply items to per-key state, under a lock per key "
         "unless the\nqueue routes keys to their owner (sharded:*)\n"
         "\nconsumer work (--work): none, fixed:<d>, exp:<d>; --work-mode spin|sleep\n"
         "backpressure (--backpressure): block, timeout:<d>, drop\n";
  return 0;
}

namespace {

void on_signal(int) {
  g_interrupted.store(true, std::memory_order_relaxed);
}

std::string run_id_prefix(const RunContext& ctx) {
  std::string s = ctx.timestamp;
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  return s + "-" + std::to_string(getpid());
}

}  // namespace

int run_command(const Registry& reg, const RunOptions& o, std::ostream& out, std::ostream& err,
                const StepOptions* step) {
  Matrix m;
  std::unique_ptr<CsvFile> csv, ts;
  try {
    m = build_matrix(reg, o);
    if (!m.out.empty()) csv = std::make_unique<CsvFile>(m.out, csv_header(), m.overwrite);
    if (!m.timeseries.empty()) {
      if (!m.out.empty() && std::filesystem::weakly_canonical(m.timeseries) ==
                                std::filesystem::weakly_canonical(m.out))
        throw UsageError("--timeseries: '" + m.timeseries +
                         "' is the --out file; expected another file");
      try {
        ts = std::make_unique<CsvFile>(m.timeseries, timeseries_header(), m.overwrite);
      } catch (const OutputError& e) {
        throw UsageError(std::string("--timeseries: ") + e.what());
      }
    }
    if (!m.hgrm.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(m.hgrm, ec);
      const std::string probe = m.hgrm + "/.qbench-probe." + std::to_string(getpid());
      std::ofstream test(probe);
      if (ec || !test) {
        throw UsageError("--hgrm: cannot write into directory '" + m.hgrm +
                         "'; expected a writable directory (created if missing)");
      }
      test.close();
      std::filesystem::remove(probe, ec);
    }
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
    return 2;
  } catch (const OutputError& e) {
    err << "qbench: --out: " << e.what() << "\n";
    return 2;
  }

  if (m.runs.empty()) {
    err << "qbench: shard " << m.shard << " has no runs (the matrix has fewer configurations "
        << "than parts); nothing to do\n";
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  RunContext ctx = gather_context();
  if (m.calibrate) {
    // The floor with the same method as the pingpong workload: each round trip timed alone, one
    // clock read per round trip (rtt_batch 1), so that the two p50s compare directly.
    CalibrateOptions copt;
    copt.rtt_batch = 1;
    try {
      const Calibration cal = calibrate(copt);
      ctx.calibrated = true;
      ctx.floor_rtt_p50_ns = cal.rtt_p50_ns;
      ctx.floor_rtt_p99_ns = cal.rtt_p99_ns;
      ctx.bare_ring_items_per_s = cal.bare_ring_items_per_s;
    } catch (const CalibrationError& e) {
      err << "qbench: --calibrate: " << e.what() << "\n";
      return 1;
    }
  }
  std::ostringstream sink;
  ConsoleReporter console(m.quiet ? static_cast<std::ostream&>(sink) : out);
  console.report_context(ctx);
  for (const auto& s : m.skipped)
    err << "qbench: skipped " << s << "\n";
  if (!ctx.sanitizer.empty()) {
    err << "qbench: this is a " << ctx.sanitizer
        << " sanitizer build: its numbers are not results\n";
  }

  const bool progress = isatty(STDERR_FILENO) && m.runs.size() > 1;
  const std::string id_prefix =
      step && !step->id_prefix.empty() ? step->id_prefix : run_id_prefix(ctx);
  int exit_code = 0;
  std::size_t index = 0;
  std::size_t hgrm_files = 0;
  for (const RunConfig& cfg : m.runs) {
    ++index;
    if (g_interrupted.load()) break;
    if (progress) {
      err << "\r[" << index << "/" << m.runs.size() << "] " << cfg.queue << " "
          << to_string(cfg.workload) << " " << cfg.producers << "x" << cfg.consumers
          << (cfg.rep < 0 ? " warm-up" : " rep " + std::to_string(cfg.rep)) << "          "
          << std::flush;
    }
    const QueueEntry* q = reg.find(cfg.queue);
    RunResult r = q->run(cfg);
    if (progress) err << "\r\033[K" << std::flush;
    if (cfg.rep < 0 && r.ok()) continue;  // warm-up: run, not reported (unless it failed)
    const std::string run_id = id_prefix + "-" + std::to_string(index);
    console.report_run(r, run_id);
    try {
      if (csv) {
        csv->add_line(csv_line(csv_values(ctx, r, run_id)));
        csv->commit();
      }
      if (ts && !r.samples.empty()) {
        for (const Sample& s : r.samples)
          ts->add_line(csv_line(timeseries_values(ctx, r, run_id, s)));
        ts->commit();
      }
    } catch (const OutputError& e) {
      err << "qbench: " << e.what() << "\n";
      return 1;
    }
    if (!m.hgrm.empty() && r.latency.count() > 0) {
      std::string name = run_id + "-" + cfg.queue + "-" + std::string(to_string(cfg.workload)) +
                         "-" + std::to_string(cfg.producers) + "x" + std::to_string(cfg.consumers) +
                         "-rep" + std::to_string(cfg.rep);
      for (char& ch : name)
        if (ch == '+' || ch == ':' || ch == '/') ch = '_';
      const std::string path = m.hgrm + "/" + name + ".hgrm";
      const std::string tmp = path + ".tmp";
      {
        std::ofstream f(tmp);
        write_hgrm(f, r.latency);
      }
      if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        err << "qbench: --hgrm: could not write " << path << "\n";
        return 1;
      }
      ++hgrm_files;
    }
    if (r.verdict == Verdict::interrupted) {
      exit_code = 130;
      break;
    }
    const bool expected = step && std::find(step->allowed.begin(), step->allowed.end(),
                                            r.verdict) != step->allowed.end();
    if (!r.ok() && !expected) exit_code = 1;
  }
  console.finalize();
  if (!m.skipped.empty()) {
    err << "qbench: " << m.skipped.size() << " combination(s) skipped (shapes or capacities the "
        << "queue cannot serve), listed above\n";
  }
  if (csv && !m.quiet)
    out << "\nwrote " << csv->path() << (csv->appended() ? " (appended)" : "") << "\n";
  if (ts && !m.quiet) out << "wrote " << ts->path() << "\n";
  if (hgrm_files && !m.quiet) out << "wrote " << hgrm_files << " .hgrm files in " << m.hgrm << "\n";
  if (g_interrupted.load() && exit_code == 0) exit_code = 130;
  return exit_code;
}

}  // namespace qb::cli
