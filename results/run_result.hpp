// What one run produced: its configuration, the counts, latency, CPU, memory, and the verdict.
// Reporters (console, CSV, time series) read it; nothing here is computed by a reporter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/records.hpp"
#include "core/run_config.hpp"
#include "queues/concept.hpp"
#include "results/histogram.hpp"

namespace qb {

// One sampler tick (DESIGN.md section 5): written as the time-series CSV.
struct Sample {
  double t_s;               // since the run's start
  std::uint64_t depth;      // accepted - consumed at that moment
  std::uint64_t rss_bytes;  // resident set size
  std::uint64_t consumed;   // cumulative
  std::uint64_t accepted;   // cumulative
  std::uint64_t refused;    // cumulative rejected + dropped
  bool in_burst;            // inside a burst window (burst workload)
  // Latency of the items consumed during this tick's interval (0 when none were): mean, an
  // approximate p99 (log buckets, within a factor of 2^(1/4)) and the exact max.
  std::int64_t lat_mean_ns;
  std::int64_t lat_p99_ns;
  std::int64_t lat_max_ns;
};

struct RunResult {
  RunConfig config;
  QueueTraits traits{};
  bool oversubscribed = false;  // more worker threads than cores
  std::string pinning;          // --pin: each thread's CPU (harness/affinity.hpp); empty: unpinned

  Verdict verdict = Verdict::ok;
  std::string detail;  // why, for any verdict but ok

  // Counts. accepted = pushes that returned ok; rejected = timed out (timeout policy);
  // dropped = try_push refused (drop policy); offered = accepted + rejected + dropped.
  // Tree workload: offered/accepted/rejected/dropped count roots; consumed, lost and duplicated
  // count nodes (accepted roots x config.nodes_per_root() are expected).
  std::uint64_t offered = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t dropped = 0;
  std::uint64_t consumed = 0;
  std::uint64_t lost = 0;        // accepted but never consumed
  std::uint64_t duplicated = 0;  // consumed more often than accepted
  std::uint64_t out_of_order = 0;
  // Tree: children the spawning consumer ran itself because the queue refused them (full).
  std::uint64_t inline_nodes = 0;
  // Keyed items: applied to their key's state after a later item of the same producer and key.
  std::uint64_t key_reorders = 0;
  bool checksum_ok = true;
  std::uint64_t starved_consumers = 0;

  // Start to the last item consumed (or the last producer's exit, if later): the drain is
  // included, the shutdown is not (throughput = consumed / elapsed_s).
  double elapsed_s = 0;
  double span_s = 0;     // start to the last consumer's exit: the span the CPU times cover
  double produce_s = 0;  // start to the last producer's exit
  double drain_s = 0;    // last producer's exit to the last consumer's exit
  // The controller's shutdown request (every producer done: close, pills or stop flag) to the
  // last consumer's exit; -1 when the run ended otherwise.
  double shutdown_s = -1;

  Histogram latency;  // pop time - intended send time
  Histogram sojourn;  // pop time - push call
  Histogram lag;      // push call - intended send time (producer behind schedule)

  CpuUsage cpu_producers;
  CpuUsage cpu_consumers;
  // Of cpu_producers, the CPU paced producers spent waiting for intended send times (sleep
  // system calls cost 20+ us of CPU each on a VM; spin pacing burns the wait): the load
  // generator's cost, left out of the per-item CPU cost of the queue.
  double cpu_pacing_s = 0;
  std::optional<WaitStats> wait_stats;  // queues that count wakeups

  // Memory (harness/system_info.hpp's RssWindow): the resident set before the run allocated
  // anything (after returning the allocator's free memory), after its queue and state were
  // allocated, after the run, and the peak during it.
  std::uint64_t rss_baseline = 0;
  std::uint64_t rss_before = 0;
  std::uint64_t rss_after = 0;
  std::optional<std::uint64_t> peak_rss;  // empty when the kernel refused the VmHWM reset
  // The controller's samples of accepted - consumed, one per tick: the peak is over
  // depth_samples of them, so a run of a few ticks can miss its peak (the console flags it).
  // The median says where the run spent its time: a fast ring's throughput depends on whether
  // it runs full (the consumer is the slower side) or empty (the producer is), and which one a
  // run falls into can change from one run to the next.
  std::uint64_t peak_depth = 0;
  std::uint64_t median_depth = 0;
  std::uint64_t depth_samples = 0;

  // Paced workloads (steady, burst): the run's start to the intended send time of its last
  // offered item; the schedule offered `offered` items over it. 0 otherwise.
  double schedule_s = 0;

  std::vector<Sample> samples;  // when config.keep_samples

  // qbench run --calibrate: the queue's bare reference for this workload, shape, capacity and
  // item size (harness/bare.hpp: the queue with nothing of the harness per item). Empty otherwise.
  std::optional<double> bare_items_per_s;          // flood
  std::optional<double> bare_rtt_p50_ns;           // pingpong
  std::optional<std::uint64_t> bare_median_depth;  // flood: BareResult::median_depth

  [[nodiscard]] double throughput() const { return elapsed_s > 0 ? consumed / elapsed_s : 0; }
  // A peak depth over fewer than min_depth_samples ticks may have missed the peak (pingpong's
  // depth is exact: one item in flight).
  [[nodiscard]] bool peak_depth_uncertain() const {
    return config.workload != WorkloadKind::pingpong && depth_samples < min_depth_samples;
  }
  static constexpr std::uint64_t min_depth_samples = 5;
  // The run's own memory: its peak resident set over the baseline (bytes), when known.
  [[nodiscard]] std::optional<std::uint64_t> peak_rss_growth() const {
    if (!peak_rss) return std::nullopt;
    return *peak_rss > rss_baseline ? *peak_rss - rss_baseline : 0;
  }
  // Paced workloads: the rate the schedule offered (items over its span). Empty otherwise.
  [[nodiscard]] std::optional<double> offered_per_s() const {
    if (!is_paced(config.workload) || schedule_s <= 0) return std::nullopt;
    return static_cast<double>(offered) / schedule_s;
  }
  // Paced workloads: did the queue and its consumers keep up with the offered load? Yes when no
  // item was refused (timeout, drop) and the run, to its last item consumed, lasted at most the
  // schedule's span / kept_up_share + kept_up_grace_s: with every offered item consumed, that is
  // consuming at least 95% of the offered rate, the last item's own latency aside. Empty for
  // unpaced workloads, where the load is whatever the queue takes.
  [[nodiscard]] std::optional<bool> kept_up() const {
    if (!is_paced(config.workload)) return std::nullopt;
    if (rejected + dropped > 0) return false;
    if (offered == 0) return true;  // nothing was offered: nothing to keep up with
    return elapsed_s <= schedule_s / kept_up_share + kept_up_grace_s;
  }
  static constexpr double kept_up_share = 0.95;
  static constexpr double kept_up_grace_s = 0.001;
  // How much of the bare figure the harness run keeps (1: the harness costs nothing): flood
  // throughput over bare throughput, bare round trip over the run's p50 round trip.
  [[nodiscard]] std::optional<double> fidelity() const {
    if (bare_items_per_s && *bare_items_per_s > 0) return throughput() / *bare_items_per_s;
    if (bare_rtt_p50_ns && latency.count() > 0)
      return *bare_rtt_p50_ns /
             static_cast<double>(std::max<std::int64_t>(latency.percentile(50), 1));
    return std::nullopt;
  }
  [[nodiscard]] CpuUsage cpu() const {
    CpuUsage c = cpu_producers;
    c += cpu_consumers;
    return c;
  }
  // CPU of the hand-off itself: pushes (including waiting for room), pops (including waiting
  // for items), service time; without the producers' pacing.
  [[nodiscard]] double queue_cpu_s() const { return std::max(0.0, cpu().total_s() - cpu_pacing_s); }
  [[nodiscard]] double cpu_ns_per_item() const {
    return consumed ? queue_cpu_s() * 1e9 / static_cast<double>(consumed) : 0;
  }
  [[nodiscard]] double cores_busy() const {
    const double span = std::max(span_s, elapsed_s);
    return span > 0 ? queue_cpu_s() / span : 0;
  }
  [[nodiscard]] bool ok() const { return verdict == Verdict::ok; }
};

}  // namespace qb
