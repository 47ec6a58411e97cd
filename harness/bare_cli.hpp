// `qbench bare`: the bare reference of each queue (harness/bare.hpp), repeated, with its median
// and range.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
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
};

void add_bare_options(CLI::App& bare, BareArgs& a);

// qbench run --calibrate: the bare reference of each flood and pingpong configuration, measured
// once per queue driven, workload, shape, capacity and pinning (the median of as many
// repetitions as the run has, at least 3), and attached to every row of that configuration.
class BareReferences {
 public:
  explicit BareReferences(int reps) : reps_(std::max(reps, 3)) {}
  // Sets r.bare_items_per_s (flood) or r.bare_rtt_p50_ns (pingpong); other workloads are left
  // alone. False, with `why`, when the reference itself failed its check or stalled.
  bool attach(const QueueEntry& q, RunResult& r, std::string& why);

 private:
  struct Figure {
    std::optional<double> value;
    std::string why;
  };
  int reps_;
  std::map<std::string, Figure> measured_;
};
// Exit codes: 0 every reference verified, 1 one failed its check or stalled, 2 bad input (one
// line naming the flag; nothing run).
int bare_command(const Registry& reg, const BareArgs& a, std::ostream& out, std::ostream& err);

}  // namespace qb::cli
