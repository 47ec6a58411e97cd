// The run context: what machine, build and code produced a result. Repeated on every CSV row
// so that files from several machines or commits concatenate (DESIGN.md section 6).
#pragma once

#include <cstdint>
#include <string>

namespace qb {

struct RunContext {
  std::string timestamp;  // ISO 8601 UTC, when the invocation started
  std::string qbench_version;
  std::string git_sha;  // of the qbench build ("unknown" outside a checkout)
  std::string host;
  std::string cpu_model;
  unsigned cores = 0;  // online CPUs
  std::uint64_t memory_bytes = 0;
  std::string kernel;
  std::string compiler;
  std::string build_type;
  std::string sanitizer;     // empty for a normal build; a sanitizer build's numbers are no results
  std::string clock;         // the clock used for latency
  double clock_cost_ns = 0;  // measured cost of one clock read
  std::string topology;      // the allowed CPUs: "1 package 2 cores 2 CPUs 1 node"
  // qbench run --calibrate (harness/calibrate.hpp): this machine's floor, measured before the
  // runs: a bare atomic ping-pong round trip between two pinned threads, and the throughput of a
  // bare single-producer ring with no harness around it.
  bool calibrated = false;
  double floor_rtt_p50_ns = 0;
  double floor_rtt_p99_ns = 0;
  double bare_ring_items_per_s = 0;
};

}  // namespace qb
