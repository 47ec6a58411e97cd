// The `qbench list` and `qbench run` commands: options as typed, their validation into a
// matrix of RunConfig, and the loop that runs the matrix and reports it.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/run_config.hpp"
#include "harness/registry.hpp"
#include "harness/usage.hpp"
#include "results/run_result.hpp"

namespace qb::cli {

// Options exactly as given on the command line (or in a --config file); lists are
// comma-separated and multiply into a matrix.
struct RunOptions {
  std::string queue;
  std::string workload = "flood";
  std::string producers = "1";
  std::string consumers = "1";
  std::string capacity = "1024";
  std::string rate = "100k";
  std::string peak_rate = "1M";
  std::string burst = "100ms";
  std::string period = "1s";
  std::string gaps = "fixed";
  std::string pacing = "sleep";
  std::string fanout = "2";  // tree workload
  std::string depth = "4";
  std::string keys = "0";
  std::string work = "none";
  std::string work_mode = "spin";
  std::string backpressure = "block";
  std::string shutdown = "close";
  std::string duration = "2s";
  std::string items;
  std::string reps = "1";
  std::string warmup = "0";
  std::string out;
  bool overwrite = false;
  std::string timeseries;
  std::string hgrm;  // directory for one .hgrm percentile distribution file per run
  std::string stall_timeout = "5s";
  std::string max_rss;  // default: half of physical memory
  std::string sample_interval = "10ms";
  std::string seed = "1";
  std::string shard;           // K/N
  std::string latency = "on";  // on, off, or on,off
  bool pin = false;
  bool calibrate = false;
  bool quiet = false;
};

struct Matrix {
  std::vector<RunConfig> runs;       // in order; warm-up runs have rep < 0
  std::vector<std::string> skipped;  // combinations a queue cannot serve, with the reason
  std::string out;
  bool overwrite = false;
  std::string timeseries;
  std::string hgrm;
  std::string shard;  // empty: the whole matrix
  bool calibrate = false;
  bool quiet = false;
};

std::string version_string();
void add_run_options(CLI::App& run, RunOptions& o);
// Throws UsageError.
Matrix build_matrix(const Registry& reg, const RunOptions& o);

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
