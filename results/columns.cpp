#include "results/columns.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <type_traits>

#include "results/ranking.hpp"

namespace qb {

namespace {

// ---- How values are written -----------------------------------------------------------------
// Doubles with 9 significant digits (blank if not finite), integers in full, flags as 1/0,
// durations in seconds, enumerations by their names (core/kinds.hpp, queues/concept.hpp).

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

template <class T>
std::string text_of(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "1" : "0";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return num(v);
  } else if constexpr (std::is_same_v<T, std::optional<double>> ||
                       std::is_same_v<T, std::optional<bool>> ||
                       std::is_same_v<T, std::optional<std::uint64_t>>) {
    return v ? text_of(*v) : "";
  } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
    return num(static_cast<double>(v.count()) * 1e-9);
  } else {
    return std::string(to_string(v));  // an enumeration
  }
}

// Getters: a member (or member function) of the context, the configuration, the run, the sample
// or the calibration, written by text_of.
template <auto M>
std::string of_context(const RowSource& s) {
  return text_of(std::invoke(M, *s.context));
}
template <auto M>
std::string of_config(const RowSource& s) {
  return text_of(std::invoke(M, s.run->config));
}
template <auto M>
std::string of_run(const RowSource& s) {
  return text_of(std::invoke(M, *s.run));
}
template <auto M>
std::string of_sample(const RowSource& s) {
  return text_of(std::invoke(M, *s.sample));
}
template <auto M>
std::string of_calibration(const RowSource& s) {
  return text_of(std::invoke(M, *s.calibration));
}
// The calibration file's figures with a fixed number of decimals.
template <double Calibration::*M, int Decimals>
std::string fixed(const RowSource& s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", Decimals, s.calibration->*M);
  return buf;
}
template <Histogram RunResult::*H, double P>
std::string percentile(const RowSource& s) {
  return text_of((s.run->*H).percentile(P));
}

// Where a column applies; elsewhere it is blank ("not applicable").
using When = bool (*)(const RowSource&);
template <When W, Getter G>
std::string only(const RowSource& s) {
  return W(s) ? G(s) : std::string();
}

const RunConfig& cfg(const RowSource& s) {
  return s.run->config;
}
bool paced(const RowSource& s) {
  return is_paced(cfg(s).workload);
}
bool burst(const RowSource& s) {
  return cfg(s).workload == WorkloadKind::burst;
}
bool tree(const RowSource& s) {
  return cfg(s).workload == WorkloadKind::tree;
}
bool keyed(const RowSource& s) {
  return cfg(s).keys && !tree(s);
}
bool served(const RowSource& s) {
  return cfg(s).service != ServiceDist::none;
}
bool timeout_policy(const RowSource& s) {
  return cfg(s).backpressure == Backpressure::timeout;
}
bool polled(const RowSource& s) {
  return cfg(s).shutdown == Shutdown::poll;
}
bool by_duration(const RowSource& s) {
  return cfg(s).items == 0;
}
bool by_items(const RowSource& s) {
  return cfg(s).items != 0;
}
bool capped(const RowSource& s) {
  return cfg(s).max_rss_bytes != 0;
}
bool consumed_any(const RowSource& s) {
  return s.run->consumed != 0;
}
bool elapsed_any(const RowSource& s) {
  return s.run->elapsed_s > 0;
}
bool shut_down(const RowSource& s) {
  return s.run->shutdown_s >= 0;
}
bool counts_wakeups(const RowSource& s) {
  return s.run->wait_stats.has_value();
}
bool peak_rss_known(const RowSource& s) {
  return s.run->peak_rss.has_value();
}
template <Histogram RunResult::*H>
bool recorded(const RowSource& s) {
  return (s.run->*H).count() > 0;
}
// Flood has no schedule, so no producer can be behind it: lag is not applicable.
bool lagged(const RowSource& s) {
  return paced(s) && recorded<&RunResult::lag>(s);
}
bool calibrated(const RowSource& s) {
  return s.context->calibrated;
}

// Rows, by what they hold.
constexpr Column text(std::string_view name, Role role, Getter get, unsigned flags = 0) {
  return {name, role, Type::text, Unit::none, Better::none, get, flags};
}
constexpr Column number(std::string_view name, Role role, Unit unit, Getter get,
                        unsigned flags = 0) {
  return {name, role, Type::number, unit, Better::none, get, flags};
}
// A measurement: a metric, or context measured on the machine (the clock, the floor).
constexpr Column measure(std::string_view name, Unit unit, Better better, Getter get,
                         unsigned flags = 0, Role role = Role::metric) {
  return {name, role, Type::number, unit, better, get, flags};
}
// A column schema v2 renamed: `formerly` is its name in v1.
constexpr Column renamed(Column c, std::string_view formerly) {
  c.formerly = formerly;
  return c;
}

using enum Role;
using enum Better;
using U = Unit;

}  // namespace

// ---- The columns other code names, and the other files share --------------------------------

namespace col {
constexpr Column schema_version =
    number("schema_version", context, U::none,
           [](const RowSource& s) { return text_of(s.schema_version); });
constexpr Column run_id =
    text("run_id", identity, [](const RowSource& s) { return std::string(s.run_id); });
constexpr Column timestamp = text("timestamp", context, of_context<&RunContext::timestamp>);
constexpr Column qbench_version =
    text("qbench_version", context, of_context<&RunContext::qbench_version>);
constexpr Column git_sha = text("git_sha", context, of_context<&RunContext::git_sha>);
constexpr Column host = text("host", context, of_context<&RunContext::host>);
constexpr Column cpu_model = text("cpu_model", context, of_context<&RunContext::cpu_model>);
constexpr Column cores = number("cores", context, U::cpus, of_context<&RunContext::cores>);
constexpr Column memory_bytes =
    number("memory_bytes", context, U::bytes, of_context<&RunContext::memory_bytes>);
constexpr Column kernel = text("kernel", context, of_context<&RunContext::kernel>);
constexpr Column compiler = text("compiler", context, of_context<&RunContext::compiler>);
constexpr Column build_type = text("build_type", context, of_context<&RunContext::build_type>);
constexpr Column sanitizer = text("sanitizer", context, of_context<&RunContext::sanitizer>);
constexpr Column queue = text("queue", key, of_config<&RunConfig::queue>);
constexpr Column workload = text("workload", key, of_config<&RunConfig::workload>);
constexpr Column producers = number("producers", key, U::threads, of_config<&RunConfig::producers>);
constexpr Column consumers = number("consumers", key, U::threads, of_config<&RunConfig::consumers>);
// A count of items, or `unbounded`.
constexpr Column capacity = text("capacity", key, [](const RowSource& s) {
  return cfg(s).capacity == unbounded ? std::string("unbounded") : text_of(cfg(s).capacity);
});
constexpr Column backpressure = text("backpressure", key, of_config<&RunConfig::backpressure>);
constexpr Column rep = number("rep", identity, U::none, of_config<&RunConfig::rep>);
constexpr Column verdict = text("verdict", Role::verdict, of_run<&RunResult::verdict>);
constexpr Column verdict_detail = text("verdict_detail", Role::verdict, of_run<&RunResult::detail>);
constexpr Column shard = text("shard", identity, of_config<&RunConfig::shard>, appended);
constexpr Column item_bytes =
    number("item_bytes", key, U::bytes, of_config<&RunConfig::item_bytes>, appended);
// What questions are ranked by (results/ranking.hpp).
constexpr Column throughput_per_s =
    measure("throughput_per_s", U::per_second, higher, of_run<&RunResult::throughput>, compared);
constexpr Column latency_p50_ns =
    measure("latency_p50_ns", U::nanoseconds, lower,
            only<recorded<&RunResult::latency>, percentile<&RunResult::latency, 50.0>>);
constexpr Column latency_p99_ns =
    measure("latency_p99_ns", U::nanoseconds, lower,
            only<recorded<&RunResult::latency>, percentile<&RunResult::latency, 99.0>>, compared);
}  // namespace col

namespace {

// The machine and build: the context of the results file and of the calibration file.
constexpr std::array kMachine = {col::timestamp,    col::qbench_version, col::git_sha,
                                 col::host,         col::cpu_model,      col::cores,
                                 col::memory_bytes, col::kernel,         col::compiler,
                                 col::build_type,   col::sanitizer};

// One table from its parts, in order.
template <std::size_t... N>
consteval auto join(const std::array<Column, N>&... parts) {
  std::array<Column, (N + ...)> out{};
  std::size_t i = 0;
  ((std::copy(parts.begin(), parts.end(), out.begin() + i), i += N), ...);
  return out;
}

// ---- The results file (`qbench run --out`), schema v2 (v1 with three columns renamed) --------
// In file order; new columns only at the end, flagged `appended`.
constexpr auto kResults = join(
    std::array{col::schema_version, col::run_id},
    // The context (repeated on every row so that files concatenate).
    kMachine,
    std::array{
        text("clock", context, of_context<&RunContext::clock>),
        measure("clock_cost_ns", U::nanoseconds, lower, of_context<&RunContext::clock_cost_ns>, 0,
                context),
        // Configuration.
        col::queue,
        text("queue_order", setting,
             [](const RowSource& s) { return text_of(s.run->traits.order); }),
        text("queue_bound", setting,
             [](const RowSource& s) { return text_of(s.run->traits.bound); }),
        text("queue_progress", setting,
             [](const RowSource& s) { return text_of(s.run->traits.progress); }),
        col::workload,
        col::producers,
        col::consumers,
        number("oversubscribed", setting, U::flag, of_run<&RunResult::oversubscribed>),
        col::capacity,
        renamed(number("rate_per_s", key, U::per_second, only<paced, of_config<&RunConfig::rate>>),
                "rate"),
        renamed(number("peak_rate_per_s", key, U::per_second,
                       only<burst, of_config<&RunConfig::peak_rate>>),
                "peak_rate"),
        number("burst_s", key, U::seconds, only<burst, of_config<&RunConfig::burst>>),
        number("period_s", key, U::seconds, only<burst, of_config<&RunConfig::period>>),
        text("gaps", key, only<paced, of_config<&RunConfig::gaps>>),
        text("service", key, of_config<&RunConfig::service>),
        number("service_s", key, U::seconds, only<served, of_config<&RunConfig::service_time>>),
        text("service_mode", key, only<served, of_config<&RunConfig::service_mode>>),
        col::backpressure,
        number("push_timeout_s", key, U::seconds,
               only<timeout_policy, of_config<&RunConfig::push_timeout>>),
        number("duration_s", key, U::seconds, only<by_duration, of_config<&RunConfig::duration>>),
        number("items_target", key, U::items, only<by_items, of_config<&RunConfig::items>>),
        number("stall_timeout_s", setting, U::seconds, of_config<&RunConfig::stall_timeout>),
        number("max_rss_bytes", setting, U::bytes,
               only<capped, of_config<&RunConfig::max_rss_bytes>>),
        col::rep,
        number("seed", identity, U::none, of_config<&RunConfig::seed>),
        // Outcome.
        col::verdict,
        col::verdict_detail,
        measure("elapsed_s", U::seconds, lower, of_run<&RunResult::elapsed_s>),
        measure("produce_s", U::seconds, lower, of_run<&RunResult::produce_s>),
        measure("drain_s", U::seconds, lower, of_run<&RunResult::drain_s>),
        measure("offered", U::items, higher, of_run<&RunResult::offered>),
        measure("accepted", U::items, higher, of_run<&RunResult::accepted>),
        measure("rejected", U::items, lower, of_run<&RunResult::rejected>),
        measure("dropped", U::items, lower, of_run<&RunResult::dropped>),
        measure("consumed", U::items, higher, of_run<&RunResult::consumed>),
        measure("lost", U::items, lower, of_run<&RunResult::lost>),
        measure("duplicated", U::items, lower, of_run<&RunResult::duplicated>),
        measure("out_of_order", U::items, lower, of_run<&RunResult::out_of_order>),
        measure("checksum_ok", U::flag, higher, of_run<&RunResult::checksum_ok>),
        measure("starved_consumers", U::threads, lower, of_run<&RunResult::starved_consumers>),
        col::throughput_per_s,
        // Latency from the intended send time, sojourn (push call to pop) and producer lag.
        col::latency_p50_ns,
        measure("latency_p90_ns", U::nanoseconds, lower,
                only<recorded<&RunResult::latency>, percentile<&RunResult::latency, 90.0>>),
        col::latency_p99_ns,
        measure("latency_p999_ns", U::nanoseconds, lower,
                only<recorded<&RunResult::latency>, percentile<&RunResult::latency, 99.9>>),
        measure("latency_p9999_ns", U::nanoseconds, lower,
                only<recorded<&RunResult::latency>, percentile<&RunResult::latency, 99.99>>),
        measure("latency_max_ns", U::nanoseconds, lower,
                [](const RowSource& s) {
                  return recorded<&RunResult::latency>(s) ? text_of(s.run->latency.max()) : "";
                }),
        measure("latency_mean_ns", U::nanoseconds, lower,
                [](const RowSource& s) {
                  return recorded<&RunResult::latency>(s) ? text_of(s.run->latency.mean()) : "";
                }),
        measure("sojourn_p50_ns", U::nanoseconds, lower,
                only<recorded<&RunResult::sojourn>, percentile<&RunResult::sojourn, 50.0>>),
        measure("sojourn_p99_ns", U::nanoseconds, lower,
                only<recorded<&RunResult::sojourn>, percentile<&RunResult::sojourn, 99.0>>),
        measure("sojourn_max_ns", U::nanoseconds, lower,
                [](const RowSource& s) {
                  return recorded<&RunResult::sojourn>(s) ? text_of(s.run->sojourn.max()) : "";
                }),
        measure("lag_p50_ns", U::nanoseconds, lower,
                only<lagged, percentile<&RunResult::lag, 50.0>>),
        measure("lag_p99_ns", U::nanoseconds, lower,
                only<lagged, percentile<&RunResult::lag, 99.0>>),
        measure("lag_max_ns", U::nanoseconds, lower,
                [](const RowSource& s) { return lagged(s) ? text_of(s.run->lag.max()) : ""; }),
        // CPU.
        measure("cpu_user_s", U::seconds, lower,
                [](const RowSource& s) { return text_of(s.run->cpu().user_s); }),
        measure("cpu_sys_s", U::seconds, lower,
                [](const RowSource& s) { return text_of(s.run->cpu().sys_s); }),
        measure("cpu_producers_s", U::seconds, lower,
                [](const RowSource& s) { return text_of(s.run->cpu_producers.total_s()); }),
        measure("cpu_consumers_s", U::seconds, lower,
                [](const RowSource& s) { return text_of(s.run->cpu_consumers.total_s()); }),
        measure("cpu_ns_per_item", U::nanoseconds, lower,
                only<consumed_any, of_run<&RunResult::cpu_ns_per_item>>),
        measure("cpu_cores_busy", U::cpus, lower,
                only<elapsed_any, of_run<&RunResult::cores_busy>>),
        measure("voluntary_switches", U::count, lower,
                [](const RowSource& s) { return text_of(s.run->cpu().voluntary_switches); }),
        measure("involuntary_switches", U::count, lower,
                [](const RowSource& s) { return text_of(s.run->cpu().involuntary_switches); }),
        measure("wakeups", U::count, lower,
                [](const RowSource& s) {
                  return counts_wakeups(s) ? text_of(s.run->wait_stats->wakeups) : "";
                }),
        measure("wasted_wakeups", U::count, lower,
                [](const RowSource& s) {
                  return counts_wakeups(s) ? text_of(s.run->wait_stats->wasted_wakeups) : "";
                }),
        measure("notifies", U::count, lower,
                [](const RowSource& s) {
                  return counts_wakeups(s) ? text_of(s.run->wait_stats->notifies) : "";
                }),
        // Memory.
        measure("rss_before_bytes", U::bytes, lower, of_run<&RunResult::rss_before>),
        measure("rss_after_bytes", U::bytes, lower, of_run<&RunResult::rss_after>),
        measure(
            "peak_rss_bytes", U::bytes, lower,
            [](const RowSource& s) { return peak_rss_known(s) ? text_of(*s.run->peak_rss) : ""; }),
        measure("peak_depth", U::items, lower, of_run<&RunResult::peak_depth>),
        // Appended to v1 after its first release.
        text("pacing", key, only<paced, of_config<&RunConfig::pacing>>, appended),
        measure("cpu_pacing_s", U::seconds, lower, only<paced, of_run<&RunResult::cpu_pacing_s>>,
                appended),
        text("shutdown", key, of_config<&RunConfig::shutdown>, appended),
        number("poll_interval_s", key, U::seconds,
               only<polled, of_config<&RunConfig::poll_interval>>, appended),
        measure("shutdown_s", U::seconds, lower, only<shut_down, of_run<&RunResult::shutdown_s>>,
                appended),
        number("fanout", key, U::count, only<tree, of_config<&RunConfig::fanout>>, appended),
        renamed(number("tree_depth", key, U::count, only<tree, of_config<&RunConfig::depth>>,
                       appended),
                "depth"),
        number("nodes_per_root", key, U::count, only<tree, of_config<&RunConfig::nodes_per_root>>,
               appended),
        measure("inline_nodes", U::count, lower, only<tree, of_run<&RunResult::inline_nodes>>,
                appended),
        number("keys", key, U::count, only<keyed, of_config<&RunConfig::keys>>, appended),
        measure("key_reorders", U::items, lower, only<keyed, of_run<&RunResult::key_reorders>>,
                appended),
        text(
            "latency_recording", key,
            [](const RowSource& s) { return std::string(cfg(s).record_latency ? "on" : "off"); },
            appended),
        text("pinning", key, of_run<&RunResult::pinning>, appended),
        measure("floor_rtt_p50_ns", U::nanoseconds, lower,
                only<calibrated, of_context<&RunContext::floor_rtt_p50_ns>>, appended, context),
        measure("floor_rtt_p99_ns", U::nanoseconds, lower,
                only<calibrated, of_context<&RunContext::floor_rtt_p99_ns>>, appended, context),
        measure("bare_ring_items_per_s", U::per_second, higher,
                only<calibrated, of_context<&RunContext::bare_ring_items_per_s>>, appended,
                context),
        measure("bare_items_per_s", U::per_second, higher, of_run<&RunResult::bare_items_per_s>,
                appended),
        measure("bare_rtt_p50_ns", U::nanoseconds, lower, of_run<&RunResult::bare_rtt_p50_ns>,
                appended),
        measure("fidelity", U::ratio, higher, of_run<&RunResult::fidelity>, appended),
        text("placement", key,
             [](const RowSource& s) {
               return cfg(s).pin ? std::string(to_string(cfg(s).placement)) : std::string();
             },
             appended),
        text("topology", context, of_context<&RunContext::topology>, appended),
        number("latency_samples", setting, U::items,
               [](const RowSource& s) {
                 return recorded<&RunResult::latency>(s) ? text_of(s.run->latency.count()) : "";
               },
               appended),
        number("latency_sample_every", setting, U::items,
               [](const RowSource& s) {
                 const auto n = s.run->latency.count();
                 return n ? num(static_cast<double>(s.run->consumed) / static_cast<double>(n))
                          : std::string();
               },
               appended),
        col::shard,
        measure("rss_baseline_bytes", U::bytes, lower, of_run<&RunResult::rss_baseline>, appended),
        measure("peak_rss_growth_bytes", U::bytes, lower, of_run<&RunResult::peak_rss_growth>,
                appended),
        number("depth_samples", setting, U::count, of_run<&RunResult::depth_samples>, appended),
        number("schedule_s", setting, U::seconds, only<paced, of_run<&RunResult::schedule_s>>,
               appended),
        number("offered_per_s", setting, U::per_second, of_run<&RunResult::offered_per_s>,
               appended),
        measure("kept_up", U::flag, higher, of_run<&RunResult::kept_up>, appended),
        col::item_bytes,
        measure("median_depth", U::items, lower, of_run<&RunResult::median_depth>, appended),
        measure("bare_median_depth", U::items, lower, of_run<&RunResult::bare_median_depth>,
                appended),
    });

// ---- The time-series file (`qbench run --timeseries`), schema v2 (v1 with depth renamed) -----
// One row per sampler tick: the run's identity and shape (the results file's rows), then the
// sample.
constexpr std::array kTimeseries = {
    col::schema_version,
    col::run_id,
    col::git_sha,
    col::host,
    col::queue,
    col::workload,
    col::producers,
    col::consumers,
    col::capacity,
    col::backpressure,
    col::rep,
    number("t_s", identity, U::seconds,
           [](const RowSource& s) {
             char t[32];
             std::snprintf(t, sizeof t, "%.6f", s.sample->t_s);
             return std::string(t);
           }),
    renamed(measure("queue_depth", U::items, lower, of_sample<&Sample::depth>), "depth"),
    measure("rss_bytes", U::bytes, lower, of_sample<&Sample::rss_bytes>),
    measure("consumed", U::items, higher, of_sample<&Sample::consumed>),
    measure("accepted", U::items, higher, of_sample<&Sample::accepted>),
    measure("refused", U::items, lower, of_sample<&Sample::refused>),
    number("in_burst", setting, U::flag, of_sample<&Sample::in_burst>),
    measure("latency_mean_ns", U::nanoseconds, lower, of_sample<&Sample::lat_mean_ns>),
    measure("latency_p99_ns", U::nanoseconds, lower, of_sample<&Sample::lat_p99_ns>),
    measure("latency_max_ns", U::nanoseconds, lower, of_sample<&Sample::lat_max_ns>),
};

// ---- The calibration file (`qbench calibrate --out`), schema v1 -----------------------------
// The core-to-core matrix over its pairs (blank without pairs).
std::string pair_rtt(const RowSource& s, double quantile) {
  if (s.calibration->pairs.empty()) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s.calibration->pair_rtt(quantile));
  return buf;
}

// The machine and build (the results file's context rows), then the floor.
constexpr auto kCalibration =
    join(std::array{col::schema_version}, kMachine,
         std::array{
             text("pinning", setting, of_calibration<&Calibration::pinning>),
             measure("rtt_min_ns", U::nanoseconds, lower, fixed<&Calibration::rtt_min_ns, 3>),
             measure("rtt_p50_ns", U::nanoseconds, lower, fixed<&Calibration::rtt_p50_ns, 3>),
             measure("rtt_p99_ns", U::nanoseconds, lower, fixed<&Calibration::rtt_p99_ns, 3>),
             measure("rtt_max_ns", U::nanoseconds, lower, fixed<&Calibration::rtt_max_ns, 3>),
             measure("clock_read_ns", U::nanoseconds, lower, fixed<&Calibration::clock_read_ns, 2>),
             measure("bare_ring_items_per_s", U::per_second, higher,
                     fixed<&Calibration::bare_ring_items_per_s, 0>),
             number("round_trips", setting, U::count, of_calibration<&Calibration::round_trips>),
             number("ring_items", setting, U::items, of_calibration<&Calibration::ring_items>),
             number("cpu_pairs", setting, U::count,
                    [](const RowSource& s) { return text_of(s.calibration->pairs.size()); }),
             measure("pair_rtt_min_ns", U::nanoseconds, lower,
                     [](const RowSource& s) { return pair_rtt(s, 0); }),
             measure("pair_rtt_median_ns", U::nanoseconds, lower,
                     [](const RowSource& s) { return pair_rtt(s, 0.5); }),
             measure("pair_rtt_max_ns", U::nanoseconds, lower,
                     [](const RowSource& s) { return pair_rtt(s, 1); }),
         });

// ---- What every table promises (checked by the compiler) ------------------------------------

template <std::size_t N>
constexpr bool well_formed(const std::array<Column, N>& cols) {
  if (N == 0 || cols[0].name != col::schema_version.name) return false;  // first, always
  for (std::size_t i = 0; i < N; ++i) {
    const Column& c = cols[i];
    // A null getter is caught by columns_test: comparing a function pointer is not a constant
    // expression under -fsanitize=undefined.
    if (c.name.empty()) return false;
    for (char ch : c.name)  // lower_snake: never quoted in CSV, plain in JSON
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (cols[j].name == c.name) return false;              // unique
    if (c.role == metric && c.better == none) return false;  // every metric has a direction
    if (c.better != none && c.role != metric && c.role != context) return false;
    if (c.better != none && c.type != Type::number) return false;
    if (c.has(compared) && c.role != metric) return false;
    if (i > 0 && cols[i - 1].has(appended) && !c.has(appended)) return false;  // only at the end
  }
  return true;
}
static_assert(well_formed(kResults),
              "results columns: unique lower_snake names, schema_version "
              "first, a direction for every metric, appended at the end");
static_assert(well_formed(kTimeseries), "time-series columns: the same rules");
static_assert(well_formed(kCalibration), "calibration columns: the same rules");

constexpr ColumnTable kResultsTable{"results", csv_schema_version, kResults};
constexpr ColumnTable kTimeseriesTable{"timeseries", timeseries_schema_version, kTimeseries};
constexpr ColumnTable kCalibrationTable{"calibration", calibration_schema_version, kCalibration};
constexpr const ColumnTable* kTables[] = {&kResultsTable, &kTimeseriesTable, &kCalibrationTable};

}  // namespace

// ---- The tables ------------------------------------------------------------------------------

const ColumnTable& results_table() {
  return kResultsTable;
}
const ColumnTable& timeseries_table() {
  return kTimeseriesTable;
}
const ColumnTable& calibration_table() {
  return kCalibrationTable;
}
std::span<const ColumnTable* const> column_tables() {
  return kTables;
}

const Column* ColumnTable::find(std::string_view name) const {
  for (const Column& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<std::string_view> ColumnTable::names() const {
  std::vector<std::string_view> out;
  out.reserve(columns.size());
  for (const Column& c : columns)
    out.push_back(c.name);
  return out;
}

std::string ColumnTable::header() const {
  std::string s;
  for (const Column& c : columns) {
    if (!s.empty()) s += ',';
    s += c.name;
  }
  return s;
}

std::vector<std::string> ColumnTable::row_values(RowSource src) const {
  src.schema_version = schema_version;
  std::vector<std::string> row;
  row.reserve(columns.size());
  for (const Column& c : columns)
    row.push_back(c.get(src));
  return row;
}

// ---- qbench columns -------------------------------------------------------------------------

namespace {

std::string flags_text(const Column& c) {
  std::string s;
  if (c.has(compared)) s += "compared";
  if (c.has(appended)) s += s.empty() ? "appended" : ", appended";
  if (!c.formerly.empty()) s += (s.empty() ? "v1: " : ", v1: ") + std::string(c.formerly);
  return s;
}

}  // namespace

void write_columns_text(std::ostream& out) {
  bool first = true;
  for (const ColumnTable* t : column_tables()) {
    if (!first) out << "\n";
    first = false;
    out << t->file << " (schema_version " << t->schema_version << ", " << t->columns.size()
        << " columns)\n";
    const std::vector<std::string_view> head = {"name", "role", "type", "unit", "better", "flags"};
    std::vector<std::vector<std::string>> cells;
    for (const Column& c : t->columns) {
      cells.push_back({std::string(c.name), std::string(to_string(c.role)),
                       std::string(to_string(c.type)), std::string(to_string(c.unit)),
                       std::string(to_string(c.better)), flags_text(c)});
    }
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) {
      w[i] = head[i].size();
      for (const auto& row : cells)
        w[i] = std::max(w[i], row[i].size());
    }
    auto line = [&](const auto& row) {
      std::string s = " ";
      for (std::size_t i = 0; i < row.size(); ++i) {
        s += ' ';
        s += row[i];
        if (i + 1 < row.size()) s += std::string(w[i] - std::string_view(row[i]).size() + 1, ' ');
      }
      while (!s.empty() && s.back() == ' ')
        s.pop_back();
      out << s << "\n";
    };
    line(head);
    for (const auto& row : cells)
      line(row);
  }
  out << "\nroles: context     the machine and build\n"
         "       identity    names one sample of a configuration\n"
         "       key         configuration key: `qbench compare` matches rows by every key\n"
         "       setting     configuration that follows a key or the machine, or a limit\n"
         "       verdict     how the run ended and why\n"
         "       metric      a measurement; `better` is its direction\n"
         "flags: compared    compared by `qbench compare` when no --metric is given\n"
         "       appended    added to schema v1 after its first release: older files read it "
         "blank\n"
         "       v1: NAME    renamed in schema v2; a v1 file's column NAME is read as this one\n";
}

void write_columns_json(std::ostream& out) {
  // One column per line, so that a change to the table is a one-line diff of
  // scripts/columns.json. Names are lower_snake (checked above): no escaping needed.
  out << "{\n";
  const auto tables = column_tables();
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const ColumnTable& table = *tables[t];
    out << "  \"" << table.file << "\": {\n"
        << "    \"schema_version\": " << table.schema_version << ",\n"
        << "    \"columns\": [\n";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      const Column& c = table.columns[i];
      out << "      {\"name\": \"" << c.name << "\", \"role\": \"" << to_string(c.role)
          << "\", \"type\": \"" << to_string(c.type) << "\", \"unit\": \"" << to_string(c.unit)
          << "\", \"better\": \"" << to_string(c.better)
          << "\", \"compared\": " << (c.has(compared) ? "true" : "false")
          << ", \"appended\": " << (c.has(appended) ? "true" : "false")
          << (c.formerly.empty() ? "" : ", \"formerly\": \"" + std::string(c.formerly) + "\"")
          << "}" << (i + 1 < table.columns.size() ? "," : "") << "\n";
    }
    out << "    ]\n  },\n";
  }
  // How the report judges a question, as the console does (results/ranking.hpp).
  out << "  \"ranking\": {\n"
      << "    \"noisy_throughput_range\": " << noisy_throughput_range << ",\n"
      << "    \"noisy_p99_ratio\": " << noisy_p99_ratio << ",\n"
      << "    \"by_workload\": {\n";
  const auto& workloads = EnumNames<WorkloadKind>::names;
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const Ranking r = ranking_of(static_cast<WorkloadKind>(i));
    out << "      \"" << workloads[i] << "\": {\"column\": \"" << r.column->name
        << "\", \"title\": \"" << r.title << "\"}" << (i + 1 < workloads.size() ? "," : "") << "\n";
  }
  out << "    }\n  }\n}\n";
}

}  // namespace qb
