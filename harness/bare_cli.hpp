// `qbench bare`: the bare reference of each queue (harness/bare.hpp), repeated, with its median
// and range.
#pragma once

#include <algorithm>
#include <ostream>
#include <string>

#include "harness/registry.hpp"

namespace CLI {
class App;  // <CLI/CLI.hpp>: only the files that add options include it (it is heavy)
}  // namespace CLI

namespace qb::cli {

// As typed; parsed and checked by bare_command.
struct BareArgs {
  std::string queues = "all";
  std::string workload = "flood";
  std::string producers = "1";
  std::string consumers = "1";
  std::string capacity = "1024";
  std::string duration = "1s";
  std::string round_trips = "100k";
  std::string reps = "5";
  std::string stall_timeout = "2s";
  bool pin = false;
  std::string placement = "spread";
  std::string item_bytes = "24";
};

void add_bare_options(CLI::App& bare, BareArgs& a);

// qbench run --calibrate: runs one bare reference for run `r`, right after it, and sets
// r.bare_items_per_s (flood) or r.bare_rtt_p50_ns (pingpong); other workloads are left alone. One
// per run, adjacent in time, so that each row's fidelity compares the same machine: a reference
// measured once per configuration was minutes away from some of its runs, and a shared VM's speed
// drifts over minutes (the same bare round trip read 111 and 490 ns a few minutes apart on the
// 2-core VM). False, with `why`, when the reference failed its check or stalled.
bool attach_bare_reference(const QueueEntry& q, RunResult& r, std::string& why);
// The reference that run configuration `c` is compared with: its shape, capacity, placement and
// item size, for about as long as the run (0.2 to 1 s).
BareConfig bare_config_for(const RunConfig& c);

// Exit codes: 0 every reference verified, 1 one failed its check or stalled, 2 bad input (one
// line naming the flag; nothing run).
int bare_command(const Registry& reg, const BareArgs& a, std::ostream& out, std::ostream& err);

}  // namespace qb::cli
