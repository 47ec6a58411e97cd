// What one run is: the queue, the shape, the workload, the backpressure policy and the limits.
// Built by the command line (main.cpp) or by tests, validated before anything runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "workloads/schedule.hpp"
#include "workloads/service.hpp"

namespace qb {

// tree: fork/join work. Producers flood roots; consuming a node spawns `fanout` children down to
// `depth`, pushed back by the consumer (ws_pool: into the worker's own deque).
// pingpong: one client and one server thread, two queues, one item in flight; the latency is the
// round trip (harness/pingpong.hpp).
enum class WorkloadKind { steady, burst, flood, tree, pingpong };
enum class Backpressure { block, timeout, drop };
// How consumers learn that the run is over, once every producer is done.
enum class Shutdown {
  close,   // queue.close(): consumers drain what is left, then pop returns closed
  poison,  // one poison pill per consumer pushed after the last item; a consumer stops at its pill
  poll,    // a stop flag, checked by consumers between timed pops (poll_interval)
};
constexpr std::string_view to_string(Shutdown s) {
  switch (s) {
    case Shutdown::close:
      return "close";
    case Shutdown::poison:
      return "poison";
    case Shutdown::poll:
      return "poll";
  }
  return "?";
}

// How paced producers wait for the next intended send time.
enum class Pacing {
  sleep,  // clock_nanosleep to the intended time: cheap, sends 30-50 us late on a VM (as lag)
  spin,   // sleep, then spin the last 60 us: precise, but keeps a core busy at high rates
};

constexpr std::string_view to_string(WorkloadKind w) {
  switch (w) {
    case WorkloadKind::steady:
      return "steady";
    case WorkloadKind::burst:
      return "burst";
    case WorkloadKind::flood:
      return "flood";
    case WorkloadKind::tree:
      return "tree";
    case WorkloadKind::pingpong:
      return "pingpong";
  }
  return "?";
}
constexpr std::string_view to_string(Backpressure b) {
  switch (b) {
    case Backpressure::block:
      return "block";
    case Backpressure::timeout:
      return "timeout";
    case Backpressure::drop:
      return "drop";
  }
  return "?";
}
constexpr std::string_view to_string(Pacing p) {
  return p == Pacing::sleep ? "sleep" : "spin";
}
constexpr std::string_view to_string(Gaps g) {
  return g == Gaps::fixed ? "fixed" : "exponential";
}
constexpr std::string_view to_string(ServiceDist d) {
  switch (d) {
    case ServiceDist::none:
      return "none";
    case ServiceDist::fixed:
      return "fixed";
    case ServiceDist::exponential:
      return "exponential";
  }
  return "?";
}
constexpr std::string_view to_string(ServiceMode m) {
  return m == ServiceMode::spin ? "spin" : "sleep";
}

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
  std::chrono::nanoseconds duration{std::chrono::seconds(2)};
  std::uint64_t items = 0;

  // Safety limits: no run may hang or take the machine down.
  std::chrono::nanoseconds stall_timeout{std::chrono::seconds(5)};
  std::uint64_t max_rss_bytes = 0;  // 0: no cap
  std::chrono::nanoseconds sample_interval{std::chrono::milliseconds(10)};
  bool keep_samples = false;  // keep the time series in the result

  // Latency recording (clock reads and histogram records per item). Off: flood and tree only,
  // to measure what recording costs; the clock is then read every 64 items, for the end time.
  bool record_latency = true;
  // Pin each producer and consumer thread to one CPU (harness/affinity.hpp's plan).
  bool pin = false;

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
};

}  // namespace qb
