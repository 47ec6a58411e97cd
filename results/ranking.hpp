// How a question (the configurations of a matrix that differ only in the queue) is judged: the
// figure its queues are ranked by, and when a configuration's repetitions are too spread to tell
// queues apart. The console (results/console.cpp) reads it here; the HTML report
// (scripts/report.py) reads it from scripts/columns.json ("ranking"), which `qbench columns
// --json` writes from it (results/columns.cpp).
#pragma once

#include <string_view>

#include "core/kinds.hpp"
#include "results/columns.hpp"

namespace qb {

enum class Primary { throughput, p99, p50 };

struct Ranking {
  Primary primary;
  const Column* column;    // the results column ranked by; whether higher is better is its
                           // `better`
  std::string_view title;  // as the console and the report name the figure
};

// A ping-pong is judged by its median round trip; a paced load by its p99 from the intended send
// time (what a service that must keep up cares about); a flood or a tree by its throughput.
constexpr Ranking ranking_of(WorkloadKind w) {
  if (w == WorkloadKind::pingpong) return {Primary::p50, &col::latency_p50_ns, "p50 round trip"};
  if (is_paced(w)) return {Primary::p99, &col::latency_p99_ns, "p99 latency"};
  return {Primary::throughput, &col::throughput_per_s, "throughput"};
}

// A configuration is noisy when its repetitions' throughput range exceeds this share of their
// median (where throughput is the figure it is ranked by), or their highest p99 is this many
// times their lowest.
inline constexpr double noisy_throughput_range = 0.10;
inline constexpr double noisy_p99_ratio = 2.0;

}  // namespace qb
