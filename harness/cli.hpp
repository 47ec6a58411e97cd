// The `qbench list` and `qbench run` commands: the options (harness/run_options.hpp) made into a
// matrix of RunConfig, and the loop that runs the matrix and reports it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/run_config.hpp"
#include "harness/registry.hpp"
#include "harness/run_options.hpp"
#include "harness/usage.hpp"
#include "results/run_result.hpp"

namespace CLI {
class App;  // <CLI/CLI.hpp>: only the files that add options include it (it is heavy)
}  // namespace CLI

namespace qb::cli {

std::string version_string();
// The runs the options ask for: every run option parsed through its declaration
// (harness/run_options.hpp), the cross product of the lists, the combinations a queue cannot
// serve skipped (and listed), then --shard. Throws UsageError.
Matrix build_matrix(const Registry& reg, const RunOptions& o);

// The time a run is planned to take, in seconds: its --duration, or for a run ended by an item
// count an estimate: items / rate when paced, else the items (a tree's every node) at 1M/s plus
// their service time shared by the consumers. The shard balance, the plan line before a matrix
// and `suite --list` use it.
double planned_seconds(const RunConfig& c);

int list_command(const Registry& reg, std::ostream& out);
// How a suite runs one of its steps (harness/suite_cli.cpp): verdicts the experiment expects
// (they do not make the exit code 1) and a run-id prefix unique across the suite's steps.
struct StepOptions {
  std::vector<Verdict> allowed;
  std::string id_prefix;
};

// Runs the matrix. Exit code: 0 all runs ok, 1 any run failed / stalled / hit the memory cap,
// 2 bad input (nothing run, nothing written), 130 interrupted (finished rows kept).
int run_command(const Registry& reg, const RunOptions& o, std::ostream& out, std::ostream& err,
                const StepOptions* step = nullptr);

}  // namespace qb::cli
