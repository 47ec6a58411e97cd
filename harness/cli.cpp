#include "harness/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>

#include "core/units.hpp"
#include "harness/bare_cli.hpp"
#include "harness/build_info.hpp"
#include "harness/calibrate.hpp"
#include "harness/clock.hpp"
#include "harness/system_info.hpp"
#include "results/console.hpp"
#include "results/csv.hpp"
#include "results/hgrm.hpp"

namespace qb::cli {

std::string version_string() {
  return std::string("qbench ") + build_info::version + " (" + build_info::git_sha + ", " +
         build_info::build_type +
         (build_info::sanitizer[0] ? std::string(", sanitizer ") + build_info::sanitizer : "") +
         ")";
}

namespace {

// One list-valued option of the matrix: its values, and the one a run takes when the option does
// not apply to its workload.
struct Dimension {
  const RunOption* option;
  std::vector<Apply> values;
  std::vector<Apply> otherwise;
};

// The cross product of `dims` over `run`, the first dimension outermost. A dimension's
// applicability is asked of the run as far as it is set: the workload comes before every list
// that depends on it (run_options() keeps that order).
void multiply(std::span<const Dimension> dims, const RunConfig& run, Matrix& m,
              std::vector<RunConfig>& out) {
  if (dims.empty()) {
    out.push_back(run);
    return;
  }
  const Dimension& d = dims.front();
  const bool applies = !d.option->applies || d.option->applies(run);
  for (const Apply& set : applies ? d.values : d.otherwise) {
    RunConfig next = run;
    set(next, m);
    multiply(dims.subspan(1), next, m, out);
  }
}

// Why queue `q` cannot serve run `c` (listed as skipped), or nothing when it can.
std::optional<std::string> unservable(const QueueEntry& q, const RunConfig& c) {
  const WorkloadKind w = c.workload;
  const std::string what = run_name(c) + ": ";
  const std::string queue(q.name);
  if (w == WorkloadKind::pingpong && (c.producers != 1 || c.consumers != 1))
    return what + "pingpong runs one client and one server (--producers 1 --consumers 1)";
  if (!c.record_latency && w != WorkloadKind::flood && w != WorkloadKind::tree) {
    return what + "--latency off is for flood and tree (" + std::string(to_string(w)) +
           (w == WorkloadKind::pingpong ? " measures round trips)"
                                        : " needs the clock for every send)");
  }
  if (w == WorkloadKind::tree && !q.traits.serves(c.producers + c.consumers, c.consumers)) {
    return what + queue + " serves at most " + std::to_string(q.traits.max_producers) +
           " producer(s), and tree consumers push too";
  }
  if (!q.traits.serves(c.producers, c.consumers)) {
    return what + queue + " serves at most " + std::to_string(q.traits.max_producers) +
           " producer(s) x " + std::to_string(q.traits.max_consumers) +
           " consumer(s) (--producers/--consumers)";
  }
  if (c.capacity == unbounded && !q.traits.allows_unbounded)
    return what + queue + " needs a capacity (no unbounded mode)";
  if (!q.carries(c.item_bytes)) return what + queue + " is " + only_item_sized();
  return std::nullopt;
}

}  // namespace

double planned_seconds(const RunConfig& c) {
  if (!c.items) return static_cast<double>(c.duration.count()) * 1e-9;
  const double items = static_cast<double>(c.items);
  if (is_paced(c.workload)) return items / c.rate;
  const double nodes =
      c.workload == WorkloadKind::tree ? items * static_cast<double>(c.nodes_per_root()) : items;
  const double service_s = static_cast<double>(c.service_time.count()) * 1e-9;
  return nodes / 1e6 + nodes * service_s / static_cast<double>(c.consumers);
}

namespace {

// "mutex_cv flood 1x2 rep 0": the run a progress line names.
std::string run_label(const RunConfig& c) {
  return run_name(c) + (c.rep < 0 ? " warm-up" : " rep " + std::to_string(c.rep));
}

// "42 s", "3 min 20 s": a planned or remaining time for the progress lines.
std::string about(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s < 100) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

// --shard K/N: keeps the K-th of N parts of the matrix. Parts are whole configurations (a
// configuration's warm-up and repetitions stay together, in order), assigned greedily in matrix
// order to the part with the least planned run time so far (ties to the lowest part): the
// same matrix always splits the same way, the parts are balanced, and together they cover the
// matrix exactly once.
void apply_shard(Matrix& m) {
  const auto [k, n] = *shard_part(m.shard);  // validated by the option's parser
  std::vector<double> load(n, 0.0);
  std::vector<RunConfig> mine;
  for (std::size_t i = 0; i < m.runs.size();) {
    // One configuration: the consecutive runs that differ only in `rep`.
    std::size_t j = i + 1;
    while (j < m.runs.size() && m.runs[j].rep > m.runs[j - 1].rep)
      ++j;
    double cost = 0;
    for (std::size_t r = i; r < j; ++r)
      cost += planned_seconds(m.runs[r]);
    const auto part =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[part] += cost;
    if (part + 1 == k) mine.insert(mine.end(), m.runs.begin() + i, m.runs.begin() + j);
    i = j;
  }
  for (RunConfig& c : mine)
    c.shard = std::to_string(k) + "/" + std::to_string(n);  // recorded: qbench merge checks parts
  m.runs = std::move(mine);
}

}  // namespace

Matrix build_matrix(const Registry& reg, const RunOptions& o) {
  Matrix m;
  RunConfig base;  // the single-valued options
  std::vector<Dimension> dims;
  for (const RunOption& opt : run_options()) {
    std::vector<Apply> values = opt.values(reg, o);
    if (!opt.list) {
      for (const Apply& set : values)
        set(base, m);
      continue;
    }
    std::vector<Apply> otherwise = {values.front()};
    if (!opt.otherwise.empty())
      otherwise = opt.value.parse(reg, opt.name(), std::string(opt.otherwise));
    dims.push_back({&opt, std::move(values), std::move(otherwise)});
  }
  check_matrix(m);

  std::vector<RunConfig> configs;
  multiply(dims, base, m, configs);
  check_used(o, configs);
  for (const RunConfig& c : configs)
    check_combination(o, c);
  for (RunConfig& c : configs) {
    if (auto why = unservable(*reg.find(c.queue), c)) {
      // One line per skipped combination, whatever else multiplied it.
      if (std::find(m.skipped.begin(), m.skipped.end(), *why) == m.skipped.end())
        m.skipped.push_back(std::move(*why));
      continue;
    }
    for (c.rep = -m.warmup; c.rep < m.reps; ++c.rep)
      m.runs.push_back(c);
  }
  if (m.runs.empty()) {
    throw UsageError("--queue/--producers/--consumers/--capacity: no combination can run: " +
                     (m.skipped.empty() ? std::string("empty matrix") : m.skipped.front()));
  }
  if (!m.shard.empty()) apply_shard(m);  // whole configurations: before the rounds below
  // --interleave: round by round, each round in matrix order (stable).
  if (m.interleave)
    std::stable_sort(m.runs.begin(), m.runs.end(),
                     [](const RunConfig& a, const RunConfig& b) { return a.rep < b.rep; });
  return m;
}

int list_command(const Registry& reg, std::ostream& out) {
  out << "queues (" << reg.entries().size() << "):\n";
  std::size_t w = 0;
  for (const auto& e : reg.entries())
    w = std::max(w, e.name.size());
  for (const auto& e : reg.entries()) {
    std::string shape;
    if (e.traits.max_producers || e.traits.max_consumers)
      shape = ", " + std::to_string(e.traits.max_producers) + "x" +
              std::to_string(e.traits.max_consumers) + " only";
    out << "  " << e.name << std::string(w + 2 - e.name.size(), ' ') << "order "
        << to_string(e.traits.order) << ", bound " << to_string(e.traits.bound)
        << (e.traits.allows_unbounded ? " (or unbounded)" : "") << ", "
        << to_string(e.traits.progress) << shape << (e.traits.can_stall ? ", CAN DEADLOCK" : "")
        << (e.user ? ", YOURS (registered by this binary)" : "") << "\n"
        << std::string(w + 4, ' ') << e.traits.summary << "\n";
  }
  out << "\nworkloads:\n"
         "  steady   constant total rate (--rate) split over producers; --gaps fixed|exponential\n"
         "  burst    base --rate plus --peak-rate for --burst every --period\n"
         "  flood    no pacing: producers push as fast as the queue takes items\n"
         "  tree     fork/join: producers flood roots; a consumed node spawns --fanout children "
         "down to --depth,\n           pushed back by the consumer (ws_pool: its own deque); a "
         "full "
         "queue runs them inline\n"
         "  pingpong two threads, two queues, one item in flight: the round trip (1x1)\n"
         "\nkeyed items (--keys K): consumers apply items to per-key state, under a lock per key "
         "unless the\nqueue routes keys to their owner (sharded:*)\n"
         "\nconsumer work (--work): none, fixed:<d>, exp:<d>; --work-mode spin|sleep\n"
         "backpressure (--backpressure): block, timeout:<d>, drop\n";
  return 0;
}

namespace {

// The list options whose value differs between the runs of the matrix, beyond the queue, the
// workload and the shape that every console line shows: each gets a console column, headed by
// its name and showing the value as it would be typed.
std::vector<ConsoleReporter::Varying> varying_columns(const Matrix& m) {
  std::vector<ConsoleReporter::Varying> out;
  for (const RunOption& opt : run_options()) {
    if (!opt.list || opt.text == &RunOptions::queue || opt.text == &RunOptions::workload ||
        opt.text == &RunOptions::producers || opt.text == &RunOptions::consumers)
      continue;
    std::vector<std::string> seen;
    for (const RunConfig& c : m.runs) {
      std::string v = opt.value.show(c, m);
      if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(std::move(v));
    }
    if (seen.size() < 2) continue;
    out.push_back(
        {opt.name().substr(2), [&opt, &m](const RunConfig& c) { return opt.value.show(c, m); }});
  }
  return out;
}

std::size_t longest_queue_name(const Matrix& m) {
  std::size_t w = 0;
  for (const RunConfig& c : m.runs)
    w = std::max(w, c.queue.size());
  return w;
}

void on_signal(int) {
  g_interrupted.store(true, std::memory_order_relaxed);
}

std::string run_id_prefix(const RunContext& ctx) {
  std::string s = ctx.timestamp;
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  return s + "-" + std::to_string(getpid());
}

}  // namespace

int run_command(const Registry& reg, const RunOptions& o, std::ostream& out, std::ostream& err,
                const StepOptions* step) {
  Matrix m;
  std::unique_ptr<CsvFile> csv, ts;
  try {
    m = build_matrix(reg, o);
    try {
      select_clock(m.clock);  // before any file is written and any thread reads the clock
    } catch (const ClockUnavailable& e) {
      throw UsageError(std::string("--clock: ") + e.what());
    }
    if (!m.out.empty()) csv = std::make_unique<CsvFile>(m.out, csv_header(), m.overwrite);
    if (!m.timeseries.empty()) {
      if (!m.out.empty() && std::filesystem::weakly_canonical(m.timeseries) ==
                                std::filesystem::weakly_canonical(m.out))
        throw UsageError("--timeseries: '" + m.timeseries +
                         "' is the --out file; expected another file");
      try {
        ts = std::make_unique<CsvFile>(m.timeseries, timeseries_header(), m.overwrite);
      } catch (const OutputError& e) {
        throw UsageError(std::string("--timeseries: ") + e.what());
      }
    }
    if (!m.hgrm.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(m.hgrm, ec);
      const std::string probe = m.hgrm + "/.qbench-probe." + std::to_string(getpid());
      std::ofstream test(probe);
      if (ec || !test) {
        throw UsageError("--hgrm: cannot write into directory '" + m.hgrm +
                         "'; expected a writable directory (created if missing)");
      }
      test.close();
      std::filesystem::remove(probe, ec);
    }
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
    return 2;
  } catch (const OutputError& e) {
    err << "qbench: --out: " << e.what() << "\n";
    return 2;
  }

  if (m.runs.empty()) {
    err << "qbench: shard " << m.shard << " has no runs (the matrix has fewer configurations "
        << "than parts); nothing to do\n";
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  RunContext ctx = gather_context();
  if (m.calibrate) {
    // The floor with the same method as the pingpong workload: each round trip timed alone, one
    // clock read per round trip (rtt_batch 1), so that the two p50s compare directly.
    CalibrateOptions copt;
    copt.rtt_batch = 1;
    try {
      const Calibration cal = calibrate(copt);
      ctx.calibrated = true;
      ctx.floor_rtt_p50_ns = cal.rtt_p50_ns;
      ctx.floor_rtt_p99_ns = cal.rtt_p99_ns;
      ctx.bare_ring_items_per_s = cal.bare_ring_items_per_s;
    } catch (const CalibrationError& e) {
      err << "qbench: --calibrate: " << e.what() << "\n";
      return 1;
    }
  }
  std::ostringstream sink;
  ConsoleReporter console(m.quiet ? static_cast<std::ostream&>(sink) : out);
  console.plan(varying_columns(m), longest_queue_name(m), m.interleave);
  console.report_context(ctx);
  for (const auto& s : m.skipped)
    err << "qbench: skipped " << s << "\n";
  if (!ctx.sanitizer.empty()) {
    err << "qbench: this is a " << ctx.sanitizer
        << " sanitizer build: its numbers are not results\n";
  }

  // Progress on stderr: the plan before the matrix starts; then, on a terminal, one line that
  // names the run in flight, else (a CI log, a pipe) one flushed line per finished run with the
  // time left at the plan's pace.
  const bool several = m.runs.size() > 1;
  const bool terminal = several && isatty(STDERR_FILENO);
  double planned = 0;
  for (const RunConfig& c : m.runs)
    planned += planned_seconds(c);
  if (several) {
    const std::size_t configurations = static_cast<std::size_t>(
        std::count_if(m.runs.begin(), m.runs.end(), [](const RunConfig& c) { return c.rep == 0; }));
    err << "qbench: " << m.runs.size() << " runs (" << configurations << " configuration(s) x "
        << m.reps << " repetition(s)"
        << (m.warmup ? " + " + std::to_string(m.warmup) + " warm-up" : "") << "), about "
        << about(planned) << " planned\n"
        << std::flush;
  }
  const auto started = std::chrono::steady_clock::now();
  double done_planned = 0;
  const std::string id_prefix =
      step && !step->id_prefix.empty() ? step->id_prefix : run_id_prefix(ctx);
  int exit_code = 0;
  std::size_t index = 0;
  std::size_t hgrm_files = 0;
  for (const RunConfig& cfg : m.runs) {
    ++index;
    if (g_interrupted.load()) break;
    if (terminal) {
      err << "\r[" << index << "/" << m.runs.size() << "] " << run_label(cfg) << "          "
          << std::flush;
    }
    const QueueEntry* q = reg.find(cfg.queue);
    RunResult r = q->run(cfg);
    if (terminal) err << "\r\033[K" << std::flush;
    done_planned += planned_seconds(cfg);
    if (several && !terminal) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const double left = done_planned > 0 ? elapsed * (planned - done_planned) / done_planned : 0;
      err << "[" << index << "/" << m.runs.size() << "] " << run_label(cfg) << ": "
          << to_string(r.verdict) << "; " << about(elapsed) << " elapsed, about " << about(left)
          << " left\n"
          << std::flush;
    }
    if (cfg.rep < 0 && r.ok()) continue;  // warm-up: run, not reported (unless it failed)
    if (m.calibrate) {
      std::string why;
      if (!attach_bare_reference(*q, r, why)) {
        err << "qbench: --calibrate: " << why << "\n";
        exit_code = 1;
      }
    }
    const std::string run_id = id_prefix + "-" + std::to_string(index);
    console.report_run(r, run_id);
    try {
      if (csv) {
        csv->add_line(csv_line(csv_values(ctx, r, run_id)));
        csv->commit();
      }
      if (ts && !r.samples.empty()) {
        for (const Sample& s : r.samples)
          ts->add_line(csv_line(timeseries_values(ctx, r, run_id, s)));
        ts->commit();
      }
    } catch (const OutputError& e) {
      err << "qbench: " << e.what() << "\n";
      return 1;
    }
    if (!m.hgrm.empty() && r.latency.count() > 0) {
      std::string name = run_id + "-" + cfg.queue + "-" + std::string(to_string(cfg.workload)) +
                         "-" + shape_of(cfg) + "-rep" + std::to_string(cfg.rep);
      for (char& ch : name)
        if (ch == '+' || ch == ':' || ch == '/') ch = '_';
      const std::string path = m.hgrm + "/" + name + ".hgrm";
      const std::string tmp = path + ".tmp";
      {
        std::ofstream f(tmp);
        write_hgrm(f, r.latency);
      }
      if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        err << "qbench: --hgrm: could not write " << path << "\n";
        return 1;
      }
      ++hgrm_files;
    }
    if (r.verdict == Verdict::interrupted) {
      exit_code = 130;
      break;
    }
    const bool expected = step && std::find(step->allowed.begin(), step->allowed.end(),
                                            r.verdict) != step->allowed.end();
    if (!r.ok() && !expected) exit_code = 1;
  }
  console.finalize();
  if (!m.skipped.empty()) {
    err << "qbench: " << m.skipped.size() << " combination(s) skipped (shapes or capacities the "
        << "queue cannot serve), listed above\n";
  }
  if (csv && !m.quiet)
    out << "\nwrote " << csv->path() << (csv->appended() ? " (appended)" : "") << "\n";
  if (ts && !m.quiet) out << "wrote " << ts->path() << "\n";
  if (hgrm_files && !m.quiet) out << "wrote " << hgrm_files << " .hgrm files in " << m.hgrm << "\n";
  if (g_interrupted.load() && exit_code == 0) exit_code = 130;
  return exit_code;
}

}  // namespace qb::cli
