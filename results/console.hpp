// The console reporter: a context block, then one table row per run, in units people read.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "results/csv.hpp"

namespace qb {

class ConsoleReporter : public Reporter {
 public:
  explicit ConsoleReporter(std::ostream& out) : out_(out) {}
  void report_context(const RunContext& ctx) override;
  void report_run(const RunResult& r, std::string_view run_id) override;
  void finalize() override;

 private:
  void header();
  std::ostream& out_;
  bool header_done_ = false;
  int runs_ = 0;
  int not_ok_ = 0;
  bool any_oversubscribed_ = false;
  std::string pinning_;  // the last pinned run's plan
  // Flood/tree throughput by configuration and latency recording, for the harness-cost lines.
  struct CostSample {
    std::string key;
    bool record;
    double throughput;
  };
  std::vector<CostSample> cost_samples_;
  // Fidelity of every measured repetition, per configuration (the key above plus latency).
  std::vector<std::pair<std::string, double>> fidelity_samples_;
};

}  // namespace qb
