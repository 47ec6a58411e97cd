// The options of `qbench run`, each declared once in one table (harness/run_options.cpp): its
// flags, the placeholder and default that --help shows, what it accepts, the field of the run (or
// of the matrix) that it sets, and whether it is a list whose values multiply into the matrix.
// CLI11 registration, parsing, the cross product (harness/cli.cpp) and the tests all read it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/run_config.hpp"
#include "harness/registry.hpp"
#include "harness/usage.hpp"

namespace CLI {
class App;  // <CLI/CLI.hpp>: only the files that add options include it (it is heavy)
}  // namespace CLI

namespace qb::cli {

// Options exactly as given on the command line (or in a --config file), before any is parsed;
// lists are comma-separated. A default-constructed RunOptions holds every declared default.
struct RunOptions {
  RunOptions();
  std::string queue, workload, producers, consumers, capacity;
  std::string rate, peak_rate, burst, period, gaps, pacing;
  std::string fanout, depth, keys;  // tree shape; keyed items
  std::string item_bytes;
  std::string work, work_mode, backpressure, shutdown;
  std::string duration, items, reps, warmup;
  bool interleave = false;
  std::string out, timeseries, hgrm;
  bool overwrite = false;
  std::string stall_timeout, max_rss, sample_interval, seed, shard, latency;
  bool pin = false;
  std::string placement;
  bool calibrate = false;
  std::string clock;
  bool quiet = false;
};

// What the options ask for (harness/cli.hpp's build_matrix): the runs, and the settings of the
// invocation as a whole.
struct Matrix {
  std::vector<RunConfig> runs;       // in order; warm-up runs have rep < 0
  std::vector<std::string> skipped;  // combinations a queue cannot serve, with the reason
  int reps = 5;                      // per configuration, after `warmup` unreported ones
  int warmup = 1;
  bool interleave = false;  // the runs round by round (every configuration's rep 0, then 1 ...)
  std::string out;
  bool overwrite = false;
  std::string timeseries;
  std::string hgrm;
  std::string shard;  // K/N; empty: the whole matrix
  bool calibrate = false;
  bool quiet = false;
  ClockChoice clock = ClockChoice::automatic;  // for the whole invocation (harness/clock.hpp)
};

// One parsed value of an option: sets its field(s) of a run, or of the matrix.
using Apply = std::function<void(RunConfig&, Matrix&)>;

// How an option's text becomes values, and a value becomes text again.
struct Binding {
  // One item (the whole text unless the option is a list) -> its values: one, except for
  // `--queue all`. Throws UsageError naming `flag` and what it accepts.
  std::function<std::vector<Apply>(const Registry&, const std::string& flag,
                                   const std::string& item)>
      parse;
  // The value a run (or the matrix) holds, spelled so that `parse` reads it back.
  std::function<std::string(const RunConfig&, const Matrix&)> show;
};

struct RunOption {
  std::string_view flags{};        // CLI11's names: "-p,--producers"
  std::string_view placeholder{};  // --help shows it for the value: COUNT, RATE, DURATION ...
  std::string_view fallback{};     // the default, as it would be typed ("": none)
  bool list = false;  // comma-separated values, each a dimension of the matrix (table order)
  std::string_view help{};
  std::string RunOptions::*text = nullptr;  // where the typed value is kept, or
  bool RunOptions::*given = nullptr;        // for a flag, whether it was given
  Binding value{};
  // A list that only some workloads use: whether it applies to a run whose earlier lists are set
  // (null: always), and the value a run takes when not ("": the list's first).
  bool (*applies)(const RunConfig&) = nullptr;
  std::string_view otherwise{};
  // An option only some workloads read: which runs read it (null: every run), and their names
  // for the message. Set to other than its default while no run of the matrix reads it, it is an
  // error (check_used), not a silent no-op.
  bool (*used)(const RunConfig&) = nullptr;
  std::string_view used_by{};
  bool required = false;

  [[nodiscard]] std::string name() const;  // "--producers": the name messages use
  [[nodiscard]] std::string typed(const RunOptions& o) const;  // "true"/"false" for a flag
  // Every value of the option as typed in `o`, in order. Throws UsageError.
  [[nodiscard]] std::vector<Apply> values(const Registry& reg, const RunOptions& o) const;
};

// Every option of `qbench run`, in --help order; the lists among them in matrix order.
const std::vector<RunOption>& run_options();

void add_run_options(CLI::App& run, RunOptions& o);

// Checks one run of the matrix against the rules that join options (--burst within --period,
// --peak-rate above --rate, a tree of at most 2^24 nodes, a stall timeout of 10 service times),
// and the matrix against --overwrite or --quiet without --out. Throws UsageError.
void check_combination(const RunOptions& o, const RunConfig& c);
void check_matrix(const Matrix& m);
// Throws UsageError naming the first option set to other than its default that no run of
// `runs` reads (`-w flood -r 10k`: a flood has no rate).
void check_used(const RunOptions& o, const std::vector<RunConfig>& runs);

// --shard K/N as numbers, or nothing if the text is no such part.
std::optional<std::pair<std::uint64_t, std::uint64_t>> shard_part(std::string_view spec);

// --shard auto or auto/N: this process's part "K/N" from the environment of the engine that
// started it. A Kubernetes Indexed Job sets JOB_COMPLETION_INDEX (0-based; the count is not in
// the pod's environment: auto/N, or QBENCH_SHARD_COUNT set by the manifest); a Slurm job array
// sets SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT (auto/N overrides
// the count). A GitHub Actions matrix passes K/N itself. Throws UsageError naming --shard when
// no engine's variables are set, or they are not a part of N. `env` is std::getenv in qbench.
using EnvLookup = std::function<const char*(const char*)>;
std::string shard_from_environment(const std::string& spec, const EnvLookup& env);

}  // namespace qb::cli
