#include "harness/run_options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "core/item.hpp"
#include "core/units.hpp"
#include "harness/system_info.hpp"

namespace qb::cli {

namespace {

using std::chrono::nanoseconds;

// ---- Codecs: text <-> one typed value ------------------------------------------------------

// Reads one value (throws UsageError naming the flag and what it accepts) and spells one the
// way `parse` reads it back.
template <class T>
struct Codec {
  std::function<T(const std::string& flag, const std::string& text)> parse;
  std::function<std::string(const T&)> show;
};

// The shortest decimal that reads back as exactly v.
std::string shortest(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, r.ptr};
}

// Spellings with the largest unit that keeps the value exact: 100k, 1.5M, 100ms, 2s, 512M.
std::string rate_text(double v) {
  using P = std::pair<double, const char*>;
  for (const auto& [scale, suffix] : {P{1e9, "G"}, P{1e6, "M"}, P{1e3, "k"}}) {
    const std::string s = shortest(v / scale) + suffix;
    if (v >= scale && units::parse_rate(s) == v) return s;
  }
  return shortest(v);
}

std::string duration_text(nanoseconds d) {
  using P = std::pair<std::int64_t, const char*>;
  for (const auto& [scale, unit] : {P{3'600'000'000'000, "h"}, P{60'000'000'000, "min"},
                                    P{1'000'000'000, "s"}, P{1'000'000, "ms"}, P{1'000, "us"}})
    if (d.count() != 0 && d.count() % scale == 0) return std::to_string(d.count() / scale) + unit;
  return std::to_string(d.count()) + "ns";
}

std::string bytes_text(std::uint64_t b) {
  using P = std::pair<std::uint64_t, const char*>;
  for (const auto& [scale, unit] :
       {P{1ull << 40, "T"}, P{1u << 30, "G"}, P{1u << 20, "M"}, P{1u << 10, "K"}})
    if (b != 0 && b % scale == 0) return std::to_string(b / scale) + unit;
  return std::to_string(b);
}

Codec<std::uint64_t> count(std::uint64_t lo, std::uint64_t hi, std::string accepted = "") {
  if (accepted.empty())
    accepted = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return {[=](const std::string& flag, const std::string& s) {
            const auto n = units::parse_count(s);
            if (!n || *n < lo || *n > hi) bad(flag, s, accepted);
            return *n;
          },
          [](std::uint64_t n) { return std::to_string(n); }};
}

Codec<std::uint64_t> threads() {
  return count(1, 256, "a whole number of threads from 1 to 256");
}

// An empty text stands for T{}: "not set".
template <class T>
Codec<T> or_none(Codec<T> c) {
  return {[c](const std::string& flag, const std::string& s) {
            return s.empty() ? T{} : c.parse(flag, s);
          },
          [c](const T& v) { return v == T{} ? std::string() : c.show(v); }};
}

Codec<double> rate() {
  return {[](const std::string& flag, const std::string& s) {
            const auto r = units::parse_rate(s);
            if (!r || *r <= 0 || *r > 1e10)
              bad(flag, s, "a rate > 0 and <= 10G items/s, such as 50k or 1.5M");
            return *r;
          },
          rate_text};
}

Codec<nanoseconds> duration(nanoseconds lo, nanoseconds hi) {
  const std::string accepted = "a duration from " + duration_text(lo) + " to " + duration_text(hi) +
                               " with a unit (ns, us, ms, s, min)";
  return {[=](const std::string& flag, const std::string& s) {
            const auto d = units::parse_duration(s);
            if (!d || *d < lo || *d > hi) bad(flag, s, accepted);
            return *d;
          },
          duration_text};
}

// A name from core/kinds.hpp's table (or one of `aliases`).
template <NamedEnum E>
Codec<E> one_of(std::vector<std::pair<std::string, E>> aliases = {}) {
  return {[aliases](const std::string& flag, const std::string& s) {
            if (const auto e = from_string<E>(s)) return *e;
            for (const auto& [alias, e] : aliases)
              if (s == alias) return e;
            bad(flag, s, accepted_names<E>());
          },
          [](const E& e) { return std::string(to_string(e)); }};
}

Codec<std::size_t> capacity() {
  return {[](const std::string& flag, const std::string& s) -> std::size_t {
            if (s == "unbounded") return unbounded;
            const auto n = units::parse_count(s);
            if (!n || *n > (std::uint64_t{1} << 32))
              bad(flag, s, "a whole number from 1 to 4G, or 'unbounded'");
            if (*n == 0)
              bad(flag, s,
                  "at least 1 (a bounded queue of capacity 0 holds nothing), or 'unbounded'");
            return *n;
          },
          [](std::size_t c) { return c == unbounded ? "unbounded" : std::to_string(c); }};
}

// A choice that may carry a duration: "block", "timeout:5ms".
template <class E>
using Timed = std::pair<E, nanoseconds>;

template <class E>
Codec<Timed<E>> timed(std::vector<std::pair<std::string, E>> plain, std::string prefix, E with,
                      nanoseconds lo, nanoseconds hi, std::string accepted) {
  return {[=](const std::string& flag, const std::string& s) {
            for (const auto& [name, e] : plain)
              if (s == name) return Timed<E>{e, nanoseconds{0}};
            if (s.rfind(prefix, 0) == 0) {
              const auto d = units::parse_duration(s.substr(prefix.size()));
              if (d && *d >= lo && *d <= hi) return Timed<E>{with, *d};
            }
            bad(flag, s, accepted);
          },
          [=](const Timed<E>& v) {
            return v.first == with ? prefix + duration_text(v.second)
                                   : std::string(to_string(v.first));
          }};
}

Codec<Timed<Backpressure>> backpressure_policy() {
  return timed<Backpressure>({{"block", Backpressure::block}, {"drop", Backpressure::drop}},
                             "timeout:", Backpressure::timeout, nanoseconds{1},
                             std::chrono::hours(1),
                             "block, drop or timeout:<duration> such as timeout:5ms");
}

Codec<Timed<Shutdown>> shutdown_policy() {
  return timed<Shutdown>({{"close", Shutdown::close}, {"poison", Shutdown::poison}},
                         "poll:", Shutdown::poll, std::chrono::microseconds(1),
                         std::chrono::seconds(10),
                         "close, poison or poll:<interval> from 1us to 10s, such as poll:1ms");
}

Codec<Timed<ServiceDist>> service() {
  return {[](const std::string& flag, const std::string& s) {
            if (s == "none") return Timed<ServiceDist>{ServiceDist::none, nanoseconds{0}};
            const auto colon = s.find(':');
            const std::string kind = s.substr(0, colon);
            if (colon == std::string::npos || (kind != "fixed" && kind != "exp"))
              bad(flag, s, "none, fixed:<duration> or exp:<duration>, such as fixed:10us");
            const auto d = units::parse_duration(s.substr(colon + 1));
            if (!d || d->count() <= 0 || *d > std::chrono::seconds(10))
              bad(flag, s, "a service time from 1ns to 10s, such as fixed:10us");
            return Timed<ServiceDist>{
                kind == "fixed" ? ServiceDist::fixed : ServiceDist::exponential, *d};
          },
          [](const Timed<ServiceDist>& v) {
            if (v.first == ServiceDist::none) return std::string("none");
            return (v.first == ServiceDist::fixed ? "fixed:" : "exp:") + duration_text(v.second);
          }};
}

Codec<bool> on_off() {
  return {[](const std::string& flag, const std::string& s) {
            if (s != "on" && s != "off") bad(flag, s, "on or off, or both: on,off");
            return s == "on";
          },
          [](bool on) { return on ? "on" : "off"; }};
}

// The text of a flag (RunOption::typed): given or not.
Codec<bool> flag() {
  return {[](const std::string&, const std::string& s) { return s == "true"; },
          [](bool given) { return given ? "true" : "false"; }};
}

// Empty: half of this machine's memory.
Codec<std::uint64_t> rss_cap() {
  return {[](const std::string& flag, const std::string& s) {
            if (s.empty()) return physical_memory_bytes() / 2;
            const auto b = units::parse_bytes(s);
            if (!b || *b < (std::uint64_t{16} << 20))
              bad(flag, s, "a size of at least 16M, such as 512M or 4G");
            return *b;
          },
          bytes_text};
}

Codec<std::string> shard() {
  return {[](const std::string& flag, const std::string& s) {
            if (s == "auto" || s.starts_with("auto/"))
              return shard_from_environment(s, [](const char* v) { return std::getenv(v); });
            if (!s.empty() && !shard_part(s))
              bad(flag, s,
                  "K/N with 1 <= K <= N <= 10000, such as 2/4, or auto or auto/N (from a "
                  "Kubernetes Indexed Job or a Slurm job array)");
            return s;
          },
          [](const std::string& s) { return s; }};
}

// A file or directory name: any text ("": none).
Codec<std::string> path() {
  return {[](const std::string&, const std::string& s) { return s; },
          [](const std::string& s) { return s; }};
}

// ---- Bindings: a codec and the field(s) it sets -------------------------------------------

// The object a member pointer of class C belongs to.
template <class C>
auto& object_of(auto& run, auto& matrix) {
  if constexpr (std::is_same_v<C, RunConfig>)
    return run;
  else
    return matrix;
}

Binding one_value(auto parse_one, auto show) {
  return {[parse_one](const Registry&, const std::string& flag, const std::string& item) {
            return std::vector<Apply>{parse_one(flag, item)};
          },
          show};
}

// Sets one field (of RunConfig or of Matrix), converted from the codec's type.
template <class C, class F, class T>
Binding field(F C::*member, Codec<T> codec) {
  return one_value(
      [member, codec](const std::string& flag, const std::string& item) -> Apply {
        const auto v = static_cast<F>(codec.parse(flag, item));
        return [member, v](RunConfig& c, Matrix& m) { object_of<C>(c, m).*member = v; };
      },
      [member, codec](const RunConfig& c, const Matrix& m) {
        return codec.show(static_cast<T>(object_of<C>(c, m).*member));
      });
}

// --placement: the placement, and pinning for any placement but spread.
Binding placement() {
  const Codec<Placement> codec = one_of<Placement>();
  return one_value(
      [codec](const std::string& flag, const std::string& item) -> Apply {
        const Placement v = codec.parse(flag, item);
        return [v](RunConfig& c, Matrix&) {
          c.placement = v;
          if (v != Placement::spread) c.pin = true;
        };
      },
      [codec](const RunConfig& c, const Matrix&) { return codec.show(c.placement); });
}

// Sets a kind and its duration: --backpressure timeout:5ms, --shutdown poll:1ms, --work exp:10us.
template <class E>
Binding fields(E RunConfig::*kind, nanoseconds RunConfig::*time, Codec<Timed<E>> codec) {
  return one_value(
      [=](const std::string& flag, const std::string& item) -> Apply {
        const auto v = codec.parse(flag, item);
        return [=](RunConfig& c, Matrix&) {
          c.*kind = v.first;
          c.*time = v.second;
        };
      },
      [=](const RunConfig& c, const Matrix&) {
        return codec.show({c.*kind, c.*time});
      });
}

// --queue: names from the registry, or every queue.
Binding queue_names() {
  return {[](const Registry& reg, const std::string& flag, const std::string& name) {
            std::vector<Apply> out;
            for (const auto& e : reg.entries())
              if (name == "all" || e.name == name)
                out.push_back([q = std::string(e.name)](RunConfig& c, Matrix&) { c.queue = q; });
            if (out.empty()) {
              throw UsageError(flag + ": unknown queue '" + name + "'; did you mean '" +
                               reg.nearest(name) + "'? (qbench list shows all " +
                               std::to_string(reg.entries().size()) + ")");
            }
            return out;
          },
          [](const RunConfig& c, const Matrix&) { return c.queue; }};
}

// --timeseries: the file, and runs keep their samples for it.
Binding timeseries_file() {
  return one_value(
      [](const std::string& flag, const std::string& item) -> Apply {
        const std::string file = path().parse(flag, item);
        return [file](RunConfig& c, Matrix& m) {
          m.timeseries = file;
          c.keep_samples = !file.empty();
        };
      },
      [](const RunConfig&, const Matrix& m) { return m.timeseries; });
}

// Which workloads use a list, and which read an option at all.
bool paced(const RunConfig& c) {
  return is_paced(c.workload);
}
bool is_burst(const RunConfig& c) {
  return c.workload == WorkloadKind::burst;
}
bool is_tree(const RunConfig& c) {
  return c.workload == WorkloadKind::tree;
}
bool is_not_tree(const RunConfig& c) {
  return c.workload != WorkloadKind::tree;
}
bool sized(const RunConfig& c) {
  return c.workload == WorkloadKind::flood || c.workload == WorkloadKind::pingpong;
}

// --item-bytes: one of item_sizes, which its help names (the default is Item's size).
static_assert(sizeof(Item) == 24, "the --item-bytes row of run_options() gives 24 as the default");
std::string_view item_bytes_help() {
  static const std::string help = "bytes each push carries: " + item_sizes_text(true) +
                                  "; flood and pingpong; sizes under 24 carry no time, so a flood "
                                  "of them records no latency";
  return help;
}
Codec<std::size_t> item_bytes() {
  return {[](const std::string& flag, const std::string& text) {
            const auto n = units::parse_count(text);
            if (!n || item_size_index(*n) == item_sizes.size())
              bad(flag, text, item_sizes_text() + " (bytes)");
            return static_cast<std::size_t>(*n);
          },
          [](std::size_t v) { return std::to_string(v); }};
}

}  // namespace

// ---- The table -------------------------------------------------------------------------------

// One row per option, in --help order; the rows with `.list` are the matrix's dimensions, the
// first outermost. A row: the flags, the placeholder and default --help shows, whether it is a
// list; the help; where the text is kept, the field(s) its value sets (and, for a list that some
// workloads ignore, which ones use it).
// clang-format off
const std::vector<RunOption>& run_options() {
  using namespace std::chrono_literals;
  static const std::vector<RunOption> table = {
      {.flags = "-q,--queue", .placeholder = "QUEUE", .list = true,
       .help = "queue name(s) from qbench list, or 'all'",
       .text = &RunOptions::queue, .value = queue_names(), .required = true},
      {.flags = "-w,--workload", .placeholder = "NAME", .fallback = "flood", .list = true,
       .help = "steady, burst, flood, tree or pingpong",
       .text = &RunOptions::workload, .value = field(&RunConfig::workload, one_of<WorkloadKind>())},
      {.flags = "-p,--producers", .placeholder = "COUNT", .fallback = "1", .list = true,
       .help = "producer threads",
       .text = &RunOptions::producers, .value = field(&RunConfig::producers, threads())},
      {.flags = "-c,--consumers", .placeholder = "COUNT", .fallback = "1", .list = true,
       .help = "consumer threads",
       .text = &RunOptions::consumers, .value = field(&RunConfig::consumers, threads())},
      {.flags = "--capacity", .placeholder = "COUNT", .fallback = "1024", .list = true,
       .help = "queue capacity, or 'unbounded'",
       .text = &RunOptions::capacity, .value = field(&RunConfig::capacity, capacity())},
      {.flags = "-r,--rate", .placeholder = "RATE", .fallback = "100k", .list = true,
       .help = "steady rate / burst base rate, items/s total, e.g. 50k or 1.5M (other workloads take the first)",
       .text = &RunOptions::rate, .value = field(&RunConfig::rate, rate()),
       .applies = paced, .used = paced, .used_by = "steady and burst"},
      {.flags = "--peak-rate", .placeholder = "RATE", .fallback = "1M",
       .help = "burst peak rate, items/s total",
       .text = &RunOptions::peak_rate, .value = field(&RunConfig::peak_rate, rate()),
       .used = is_burst, .used_by = "burst"},
      {.flags = "--burst", .placeholder = "DURATION", .fallback = "100ms",
       .help = "length of each burst",
       .text = &RunOptions::burst, .value = field(&RunConfig::burst, duration(1us, 24h)),
       .used = is_burst, .used_by = "burst"},
      {.flags = "--period", .placeholder = "DURATION", .fallback = "1s",
       .help = "time from one burst to the next",
       .text = &RunOptions::period, .value = field(&RunConfig::period, duration(1us, 24h)),
       .used = is_burst, .used_by = "burst"},
      {.flags = "--gaps", .placeholder = "NAME", .fallback = "fixed",
       .help = "gaps between sends: fixed or exponential (Poisson)",
       .text = &RunOptions::gaps,
       .value = field(&RunConfig::gaps, one_of<Gaps>({{"poisson", Gaps::exponential}})),
       .used = paced, .used_by = "steady and burst"},
      {.flags = "--pacing", .placeholder = "NAME", .fallback = "sleep",
       .help = "how paced producers wait: sleep (cheap, ~30-50 us late on a VM) or spin "
               "(precise, burns a core)",
       .text = &RunOptions::pacing, .value = field(&RunConfig::pacing, one_of<Pacing>()),
       .used = paced, .used_by = "steady and burst"},
      {.flags = "--fanout", .placeholder = "COUNT", .fallback = "2", .list = true,
       .help = "tree: children per node",
       .text = &RunOptions::fanout, .value = field(&RunConfig::fanout, count(1, 64)),
       .applies = is_tree, .used = is_tree, .used_by = "tree"},
      {.flags = "--depth", .placeholder = "COUNT", .fallback = "4", .list = true,
       .help = "tree: levels below the root",
       .text = &RunOptions::depth, .value = field(&RunConfig::depth, count(0, 24)),
       .applies = is_tree, .used = is_tree, .used_by = "tree"},
      {.flags = "--keys", .placeholder = "COUNT", .fallback = "0", .list = true,
       .help = "keyed items: keys drawn uniformly from this many, applied to per-key state by "
               "consumers (0: no keys; a tree has none)",
       .text = &RunOptions::keys, .value = field(&RunConfig::keys, count(0, max_keys)),
       .applies = is_not_tree, .otherwise = "0", .used = is_not_tree,
       .used_by = "steady, burst, flood and pingpong"},
      {.flags = "--item-bytes", .placeholder = "BYTES", .fallback = "24", .list = true,
       .help = item_bytes_help(),
       .text = &RunOptions::item_bytes, .value = field(&RunConfig::item_bytes, item_bytes()),
       .applies = sized, .otherwise = "24", .used = sized, .used_by = "flood and pingpong"},
      {.flags = "--work", .placeholder = "SERVICE", .fallback = "none",
       .help = "consumer service time per item: none, fixed:10us, exp:10us",
       .text = &RunOptions::work,
       .value = fields(&RunConfig::service, &RunConfig::service_time, service())},
      {.flags = "--work-mode", .placeholder = "NAME", .fallback = "spin",
       .help = "spin (CPU-bound work) or sleep (I/O-like wait)",
       .text = &RunOptions::work_mode,
       .value = field(&RunConfig::service_mode, one_of<ServiceMode>())},
      {.flags = "-b,--backpressure", .placeholder = "POLICY", .fallback = "block", .list = true,
       .help = "when full: block, timeout:<duration> (count a rejection), drop",
       .text = &RunOptions::backpressure,
       .value = fields(&RunConfig::backpressure, &RunConfig::push_timeout, backpressure_policy())},
      {.flags = "--shutdown", .placeholder = "POLICY", .fallback = "close", .list = true,
       .help = "how consumers learn to stop: close (close() and drain), poison (one pill per "
               "consumer after the last item), poll:<interval> (a flag checked between timed "
               "pops)",
       .text = &RunOptions::shutdown,
       .value = fields(&RunConfig::shutdown, &RunConfig::poll_interval, shutdown_policy())},
      {.flags = "-d,--duration", .placeholder = "DURATION", .fallback = "1s",
       .help = "length of each run, e.g. 500ms, 5s, 1m",
       .text = &RunOptions::duration, .value = field(&RunConfig::duration, duration(1ms, 24h))},
      {.flags = "-n,--items", .placeholder = "COUNT",
       .help = "end after this many items offered (overrides --duration)",
       .text = &RunOptions::items,
       .value = field(&RunConfig::items, or_none(count(1, std::uint64_t{1} << 39)))},
      {.flags = "--reps", .placeholder = "COUNT", .fallback = "5",
       .help = "repetitions per configuration (the console shows their median and range)",
       .text = &RunOptions::reps, .value = field(&Matrix::reps, count(1, 10'000))},
      {.flags = "--warmup", .placeholder = "COUNT", .fallback = "1",
       .help = "warm-up repetitions, run but not reported",
       .text = &RunOptions::warmup, .value = field(&Matrix::warmup, count(0, 1'000))},
      {.flags = "--interleave",
       .help = "run the repetitions round by round (every configuration's warm-up, then every "
               "one's first repetition, then every one's second ...) instead of each "
               "configuration's back to back: a drift of the machine (a noisy neighbour, a VM's "
               "slow phase) then falls on every configuration alike instead of on some, and "
               "stays out of the comparisons between them; the console's lines come in the last "
               "round",
       .given = &RunOptions::interleave, .value = field(&Matrix::interleave, flag())},
      {.flags = "-o,--out", .placeholder = "FILE",
       .help = "CSV file: created, or appended to if it has the same schema",
       .text = &RunOptions::out, .value = field(&Matrix::out, path())},
      {.flags = "--overwrite",
       .help = "replace --out instead of appending",
       .given = &RunOptions::overwrite, .value = field(&Matrix::overwrite, flag())},
      {.flags = "--timeseries", .placeholder = "FILE",
       .help = "CSV file for depth/RSS/latency samples over time",
       .text = &RunOptions::timeseries, .value = timeseries_file()},
      {.flags = "--hgrm", .placeholder = "DIR",
       .help = "directory for one HdrHistogram percentile distribution (.hgrm) file per run",
       .text = &RunOptions::hgrm, .value = field(&Matrix::hgrm, path())},
      {.flags = "--stall-timeout", .placeholder = "DURATION", .fallback = "5s",
       .help = "end a run that consumes nothing this long",
       .text = &RunOptions::stall_timeout,
       .value = field(&RunConfig::stall_timeout, duration(10ms, 1h))},
      {.flags = "--max-rss", .placeholder = "BYTES",
       .help = "end a run whose RSS crosses this (default: half of RAM)",
       .text = &RunOptions::max_rss, .value = field(&RunConfig::max_rss_bytes, rss_cap())},
      {.flags = "--sample-interval", .placeholder = "DURATION", .fallback = "10ms",
       .help = "sampler period",
       .text = &RunOptions::sample_interval,
       .value = field(&RunConfig::sample_interval, duration(1ms, 10s))},
      {.flags = "--seed", .placeholder = "NUMBER", .fallback = "1",
       .help = "seed for Poisson gaps and service times",
       .text = &RunOptions::seed,
       .value = field(&RunConfig::seed, count(0, ~std::uint64_t{0} >> 1))},
      {.flags = "--shard", .placeholder = "K/N",
       .help = "run only part K of N of the matrix (K/N, e.g. 2/4): deterministic, balanced "
               "parts whose CSVs concatenate; auto or auto/N takes K (and N) from a Kubernetes "
               "Indexed Job (JOB_COMPLETION_INDEX, N from auto/N or QBENCH_SHARD_COUNT) or a "
               "Slurm job array (SLURM_ARRAY_TASK_ID/_MIN/_COUNT)",
       .text = &RunOptions::shard, .value = field(&Matrix::shard, shard())},
      {.flags = "--latency", .placeholder = "MODE", .fallback = "on", .list = true,
       .help = "latency recording: on, or off (flood and tree; to measure its cost)",
       .text = &RunOptions::latency, .value = field(&RunConfig::record_latency, on_off())},
      {.flags = "--pin",
       .help = "pin each producer and consumer to a CPU, alternating over the allowed CPUs",
       .given = &RunOptions::pin, .value = field(&RunConfig::pin, flag())},
      {.flags = "--placement", .placeholder = "NAME", .fallback = "spread", .list = true,
       .help = "where pinned threads go: spread (alternate over the allowed CPUs), same-core (SMT "
               "siblings), same-socket (two cores of one package) or cross-socket; anything but "
               "spread implies --pin and is refused where the machine has no such pair",
       .text = &RunOptions::placement, .value = placement()},
      {.flags = "--calibrate",
       .help = "measure this machine's floor first (qbench calibrate) and each flood and pingpong "
               "configuration's bare reference (qbench bare); record them, and the fidelity, in "
               "every row",
       .given = &RunOptions::calibrate, .value = field(&Matrix::calibrate, flag())},
      {.flags = "--clock", .placeholder = "NAME", .fallback = "auto",
       .help = "the clock of every timestamp: auto (the TSC where the CPU's is invariant and the "
               "kernel keeps time with it, else CLOCK_MONOTONIC), tsc (refused where it is not "
               "usable) or monotonic; the context columns clock and clock_cost_ns record it",
       .text = &RunOptions::clock, .value = field(&Matrix::clock, one_of<ClockChoice>())},
      {.flags = "--quiet",
       .help = "no table on stdout (errors still go to stderr); needs --out",
       .given = &RunOptions::quiet, .value = field(&Matrix::quiet, flag())},
  };
  return table;
}
// clang-format on

// ---- Reading the table -----------------------------------------------------------------------

RunOptions::RunOptions() {
  for (const RunOption& opt : run_options())
    if (opt.text) this->*opt.text = opt.fallback;
}

std::string RunOption::name() const {
  const auto comma = flags.rfind(',');
  return std::string(comma == std::string_view::npos ? flags : flags.substr(comma + 1));
}

std::string RunOption::typed(const RunOptions& o) const {
  return text ? o.*text : (o.*given ? "true" : "false");
}

std::vector<Apply> RunOption::values(const Registry& reg, const RunOptions& o) const {
  const std::string flag = name(), all = typed(o);
  std::vector<std::string> items = {all};
  if (list) {
    items = units::split_list(all);
    for (const auto& item : items)
      if (item.empty()) bad(flag, all, "a comma-separated list without empty items");
  }
  std::vector<Apply> out;
  for (const auto& item : items) {
    auto v = value.parse(reg, flag, item);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void add_run_options(CLI::App& run, RunOptions& o) {
  for (const RunOption& opt : run_options()) {
    const std::string flags(opt.flags), help = std::string(opt.help) + (opt.list ? " (list)" : "");
    if (opt.given) {
      run.add_flag(flags, o.*opt.given, help);
      continue;
    }
    auto* cli = run.add_option(flags, o.*opt.text, help)
                    ->type_name(std::string(opt.placeholder))
                    ->default_str(std::string(opt.fallback));
    if (opt.required) cli->required();
  }
}

// ---- Rules that join options -----------------------------------------------------------------

void check_combination(const RunOptions& o, const RunConfig& c) {
  if (c.pin && c.placement != Placement::spread) {
    try {
      plan_placement(c.producers, c.consumers, machine_topology(), c.placement);
    } catch (const PlacementError& e) {
      throw UsageError(std::string("--placement: ") + e.what());
    }
  }
  if (c.workload == WorkloadKind::tree && c.nodes_per_root() > max_tree_nodes) {
    bad("--depth", o.depth,
        "a depth whose tree with --fanout " + std::to_string(c.fanout) +
            " has at most 16M (2^24) nodes per root");
  }
  if (c.workload == WorkloadKind::burst && c.burst > c.period)
    bad("--burst", o.burst, "a burst no longer than --period (" + o.period + ")");
  if (c.workload == WorkloadKind::burst && c.peak_rate < c.rate)
    bad("--peak-rate", o.peak_rate, "a peak rate >= --rate (the base rate)");
  if (c.service != ServiceDist::none && c.stall_timeout < 10 * c.service_time)
    bad("--stall-timeout", o.stall_timeout,
        "at least 10x the --work service time (" + o.work + ")");
}

void check_matrix(const Matrix& m) {
  if (m.overwrite && m.out.empty())
    throw UsageError("--overwrite: needs --out FILE (it replaces that file instead of appending)");
  if (m.quiet && m.out.empty())
    throw UsageError(
        "--quiet: needs --out FILE (without a table or a file, the results would be lost)");
}

void check_used(const RunOptions& o, const std::vector<RunConfig>& runs) {
  for (const RunOption& opt : run_options()) {
    if (!opt.used || !opt.text || o.*opt.text == opt.fallback) continue;
    if (std::any_of(runs.begin(), runs.end(), opt.used)) continue;
    throw UsageError(opt.name() + ": '" + o.*opt.text + "' would do nothing: only " +
                     std::string(opt.used_by) +
                     " runs read it, and this matrix has none (--workload " + o.workload + ")");
  }
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> shard_part(std::string_view spec) {
  const auto slash = spec.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto k = units::parse_count(spec.substr(0, slash));
  const auto n = units::parse_count(spec.substr(slash + 1));
  if (!k || !n || *n < 1 || *n > 10'000 || *k < 1 || *k > *n) return std::nullopt;
  return std::pair{*k, *n};
}

std::string shard_from_environment(const std::string& spec, const EnvLookup& env) {
  const std::string flag = "--shard";
  auto number = [&](const char* var) -> std::optional<std::uint64_t> {
    const char* v = env(var);
    if (!v || !*v) return std::nullopt;
    const auto n = units::parse_count(v);
    if (!n) bad(flag, spec, std::string("a whole number in $") + var + ", which is '" + v + "'");
    return n;
  };
  std::optional<std::uint64_t> count;
  if (spec != "auto") {
    count = units::parse_count(std::string_view(spec).substr(5));
    if (!count || *count < 1 || *count > 10'000)
      bad(flag, spec, "auto, or auto/N with 1 <= N <= 10000");
  }
  std::uint64_t k = 0, n = 0;
  std::string source;
  if (const auto index = number("JOB_COMPLETION_INDEX")) {
    source = "Kubernetes JOB_COMPLETION_INDEX";
    k = *index + 1;
    if (!count) count = number("QBENCH_SHARD_COUNT");
    if (!count)
      bad(flag, spec,
          "auto/N in a Kubernetes Indexed Job (its pods see their index, not the completion "
          "count), or QBENCH_SHARD_COUNT in the pod's environment");
    n = *count;
  } else if (const auto task = number("SLURM_ARRAY_TASK_ID")) {
    source = "Slurm SLURM_ARRAY_TASK_ID";
    const std::uint64_t first = number("SLURM_ARRAY_TASK_MIN").value_or(0);
    if (*task < first) bad(flag, spec, "SLURM_ARRAY_TASK_ID at or above SLURM_ARRAY_TASK_MIN");
    k = *task - first + 1;
    if (!count) count = number("SLURM_ARRAY_TASK_COUNT");
    if (!count) bad(flag, spec, "auto/N, or SLURM_ARRAY_TASK_COUNT in the environment");
    n = *count;
  } else {
    bad(flag, spec,
        "K/N, or auto inside a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job "
        "array (SLURM_ARRAY_TASK_ID): neither is set here");
  }
  const std::string part = std::to_string(k) + "/" + std::to_string(n);
  if (!shard_part(part))
    bad(flag, spec, "a part K/N with 1 <= K <= N; " + source + " gives " + part);
  return part;
}

}  // namespace qb::cli
