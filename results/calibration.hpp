// What `qbench calibrate` measured (harness/calibrate.hpp measures it): this machine's floor,
// with no queue and no harness around it. A record, like RunResult; the calibration file's
// columns (results/columns.hpp) read it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qb {

struct Calibration {
  double rtt_min_ns = 0;  // per round trip: min, p50, p99, max of the per-batch means
  double rtt_p50_ns = 0;
  double rtt_p99_ns = 0;
  double rtt_max_ns = 0;
  double clock_read_ns = 0;          // one qb::now_ns() (the run context's clock_cost_ns)
  double bare_ring_items_per_s = 0;  // RingSpsc<Item>, spinning, pinned like the round trip
  std::string pinning;               // "cpu0<->cpu1", or "unpinned"
  std::uint64_t round_trips = 0;     // timed round trips
  std::uint64_t rtt_batch = 0;       // round trips per timed sample
  std::uint64_t ring_items = 0;
  std::size_t ring_capacity = 0;
  std::string note;  // why unpinned / oversubscribed, for people; empty when pinned as planned
  // The core-to-core matrix: the round trip p50 of every pair of allowed CPUs (a < b), with
  // fewer round trips each; empty with fewer than two CPUs.
  struct PairRtt {
    unsigned cpu_a = 0, cpu_b = 0;
    double rtt_p50_ns = 0;
  };
  std::vector<PairRtt> pairs;
  // Over the pairs: quantile 0 the fastest, 0.5 the median (lower middle), 1 the slowest.
  [[nodiscard]] double pair_rtt(double quantile) const {
    if (pairs.empty()) return 0;
    std::vector<double> v;
    for (const auto& p : pairs)
      v.push_back(p.rtt_p50_ns);
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(quantile * static_cast<double>(v.size() - 1))];
  }
};

}  // namespace qb
