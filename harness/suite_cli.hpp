// `qbench suite`: named experiments kept as files in the repository (suites/NAME.suite).
//
// A suite file is line-based:
//   # comment
//   title: one line naming the experiment
//   claim: a textbook claim the experiment tests (one or more lines)
//   run: <qbench run options>                 one step: a matrix like `qbench run` takes
//   run allow=stalled,memory_cap: <options>   a step whose expected outcome includes these verdicts
// Every step is validated before anything runs (a bad file: one line naming file:line, exit 2).
// The suite owns its outputs: DIR/results.csv, DIR/timeseries.csv, then the report script
// (scripts/suite_report.py) writes DIR/findings.md and DIR/figures/.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "harness/cli.hpp"
#include "harness/registry.hpp"

namespace CLI {
class App;  // <CLI/CLI.hpp>: only the files that add options include it (it is heavy)
}  // namespace CLI

namespace qb::cli {

struct SuiteArgs {
  std::string name;
  bool list = false;
  std::string out;         // default: results/suites/NAME-<timestamp>
  std::string suites_dir;  // default: $QBENCH_SUITES, else the source tree's suites/
  bool no_report = false;  // CSVs only (no Python step)
  bool quiet = false;
  std::string command;  // the command line, recorded in the findings
};

struct SuiteStep {
  int line = 0;
  std::string text;  // the options as written
  RunOptions options;
  StepOptions step;
  std::size_t runs = 0;  // configurations x repetitions in this step
};

struct Suite {
  std::string name;
  std::string path;
  std::string title;
  std::vector<std::string> claims;
  std::vector<SuiteStep> steps;
};

void add_suite_options(CLI::App& app, SuiteArgs& a);
// Directory holding NAME.suite files.
std::string suites_directory(const SuiteArgs& a);
// Reads and validates a suite file; throws UsageError naming file:line.
Suite load_suite(const Registry& reg, const std::string& path, const std::string& name);
int suite_command(const Registry& reg, const SuiteArgs& a, std::ostream& out, std::ostream& err);

}  // namespace qb::cli
