// What `qbench calibrate` measured (harness/calibrate.hpp measures it): this machine's floor,
// with no queue and no harness around it. A record, like RunResult; the calibration file's
// columns (results/columns.hpp) read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

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
};

}  // namespace qb
