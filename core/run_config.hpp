// What one run is: the queue, the shape, the workload, the backpressure policy and the limits.
// Built by the command line (main.cpp) or by tests, validated before anything runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/item.hpp"
#include "core/kinds.hpp"

namespace qb {

struct RunConfig {
  std::string queue;
  WorkloadKind workload = WorkloadKind::flood;
  std::size_t producers = 1;
  std::size_t consumers = 1;
  std::size_t capacity = 1024;  // qb::unbounded for none

  // Rates are totals in items per second, split evenly over the producers.
  double rate = 100'000;         // steady; burst: the base rate
  double peak_rate = 1'000'000;  // burst only
  std::chrono::nanoseconds burst{std::chrono::milliseconds(100)};
  std::chrono::nanoseconds period{std::chrono::seconds(1)};
  Gaps gaps = Gaps::fixed;
  Pacing pacing = Pacing::sleep;

  // Tree workload: each root is a complete `fanout`-ary tree of `depth` levels below the root
  // (nodes_per_root() nodes); --items / the duration count roots.
  std::size_t fanout = 2;
  std::size_t depth = 4;

  // Keyed items (0: none). Each item gets a key drawn uniformly from [0, keys); consumers apply
  // it to that key's state: under a per-key lock, or without one when the queue routes keys to
  // their owner (Order::per_key: sharded mailboxes).
  std::size_t keys = 0;

  ServiceDist service = ServiceDist::none;  // consumer work per item
  std::chrono::nanoseconds service_time{0};
  ServiceMode service_mode = ServiceMode::spin;

  Shutdown shutdown = Shutdown::close;
  std::chrono::nanoseconds poll_interval{std::chrono::milliseconds(1)};  // Shutdown::poll

  Backpressure backpressure = Backpressure::block;
  std::chrono::nanoseconds push_timeout{std::chrono::milliseconds(1)};  // Backpressure::timeout

  // The run ends after `duration`, or after `items` items offered when items > 0.
  std::chrono::nanoseconds duration{std::chrono::seconds(1)};
  std::uint64_t items = 0;

  // Safety limits: no run may hang or take the machine down.
  std::chrono::nanoseconds stall_timeout{std::chrono::seconds(5)};
  std::uint64_t max_rss_bytes = 0;  // 0: no cap
  std::chrono::nanoseconds sample_interval{std::chrono::milliseconds(10)};
  bool keep_samples = false;  // keep the time series in the result

  // Latency recording (clock reads and histogram records per item). Off: flood and tree only,
  // to measure what recording costs; the clock is then read every 64 items, for the end time.
  bool record_latency = true;
  // What each push carries, in bytes (core/item.hpp item_sizes): 24 (qb::Item, the id and the two
  // times latency needs) unless asked; flood and pingpong run other sizes, and 8 or 16 bytes
  // carry no time (a flood of them records no latency).
  std::size_t item_bytes = sizeof(Item);
  // Pin each producer and consumer thread to one CPU, placed as `placement` says
  // (harness/topology.hpp).
  bool pin = false;
  Placement placement = Placement::spread;

  // Nodes in one tree: (fanout^(depth+1) - 1) / (fanout - 1).
  [[nodiscard]] std::uint64_t nodes_per_root() const noexcept {
    std::uint64_t n = 1, level = 1;
    for (std::size_t d = 0; d < depth; ++d) {
      level *= fanout;
      n += level;
    }
    return n;
  }

  int rep = 0;  // repetition number (0-based); warm-up runs are negative
  std::uint64_t seed = 1;
  std::string shard;  // "K/N" when this run is part K of N of a sharded matrix (--shard)
};

// "2x3": a run's producers and consumers, as every line that names a run writes them.
inline std::string shape_of(const RunConfig& c) {
  return std::to_string(c.producers) + "x" + std::to_string(c.consumers);
}
// "mutex_cv flood 2x3": the queue, workload and shape that name a run (or `queue` in its place).
inline std::string run_name(const RunConfig& c, std::string_view queue = {}) {
  return (queue.empty() ? c.queue : std::string(queue)) + " " + std::string(to_string(c.workload)) +
         " " + shape_of(c);
}

}  // namespace qb
