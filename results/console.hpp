// The console reporter: a context block, then one line per configuration (the median of its
// repetitions and their range), then a relative summary per question (the configurations that
// differ only in the queue), then notes: noise, saturation, the harness's cost, pinning,
// oversubscription, failures. Per-repetition figures are the CSV's (results/csv.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "results/csv.hpp"

namespace qb {

class ConsoleReporter : public Reporter {
 public:
  // An option whose value varies between the configurations of the matrix: a column of its own,
  // headed `header`, showing `value` of each configuration.
  struct Varying {
    std::string header;
    std::function<std::string(const RunConfig&)> value;
  };

  explicit ConsoleReporter(std::ostream& out) : out_(out) {}
  // Before the first run: the options that vary, the longest queue name (column widths), and
  // whether the runs come round by round (--interleave).
  void plan(std::vector<Varying> varying, std::size_t queue_width, bool interleaved = false);
  void report_context(const RunContext& ctx) override;
  // Runs arrive in matrix order: a configuration's repetitions one after another (a failed
  // warm-up first, when one failed), its line written when the next configuration's first run
  // comes in; or, interleaved, round by round, the lines written at the end.
  void report_run(const RunResult& r, std::string_view run_id) override;
  void finalize() override;

  // One repetition, as the console needs it.
  struct Rep {
    bool ok = false;
    double throughput = 0;
    bool latency = false;  // recorded: the percentiles below mean something
    double p50 = 0, p99 = 0, p999 = 0, max = 0;
    double cpu_per_item = 0, cores = 0;
    double depth = 0;
    bool depth_uncertain = false;
    bool rss_known = false;
    double rss_growth = 0;
    double refused = 0;
    bool paced = false;
    bool kept_up = true;
    double offered_per_s = 0;
  };
  struct Configuration {
    RunConfig config;                  // its first repetition's
    std::string key;                   // every key column but the repetition
    std::string question;              // the key without the queue: what the queues are compared on
    std::string description;           // "burst 1x1 backpressure block": the question, for people
    std::vector<std::string> varying;  // the varying options' values
    bool oversubscribed = false;
    std::vector<Rep> reps;              // every repetition, ok or not
    std::vector<std::string> failures;  // "rep 2: failed: 3 items lost"
    bool noisy = false;
  };

 private:
  void header();
  void flush();  // writes the pending configurations' lines, in the order they came
  void write_line(Configuration& g);
  void summary();

  std::ostream& out_;
  RunContext context_;
  std::vector<Varying> varying_;
  std::size_t queue_width_ = 24;
  bool header_done_ = false;
  int runs_ = 0;
  int not_ok_ = 0;
  bool any_oversubscribed_ = false;
  std::string pinning_;  // the last pinned run's plan
  bool interleaved_ = false;
  std::vector<Configuration> pending_;  // the configurations whose lines are not written yet
  std::vector<Configuration> done_;
  // Flood/tree throughput by configuration and latency recording, for the harness-cost lines.
  struct CostSample {
    std::string key;
    bool record;
    double throughput;
  };
  std::vector<CostSample> cost_samples_;
  // Fidelity of every measured repetition, per configuration (the key above plus latency), with
  // the median depth of the run and of its bare reference (flood): the regime each ran in.
  struct FidelitySample {
    std::string key;
    double fidelity;
    std::optional<std::uint64_t> depth, bare_depth;
  };
  std::vector<FidelitySample> fidelity_samples_;
};

}  // namespace qb
