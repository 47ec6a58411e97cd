// The enumerations every folder speaks (run configuration, workloads, results), each with its
// names in one table: to_string and from_string both read it, so a name is written once.
// Depends on the standard library only.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace qb {

// tree: fork/join work. Producers flood roots; consuming a node spawns `fanout` children down to
// `depth`, pushed back by the consumer (ws_pool: into the worker's own deque).
// pingpong: one client and one server thread, two queues, one item in flight; the latency is the
// round trip (harness/pingpong.hpp).
enum class WorkloadKind { steady, burst, flood, tree, pingpong };
// The workloads whose producers follow a schedule of intended send times (rate, gaps, pacing,
// lag); a burst also reads peak rate, burst and period. The option table (which options a
// matrix's runs read) and the column table (which columns a row fills) both ask here.
constexpr bool is_paced(WorkloadKind w) {
  return w == WorkloadKind::steady || w == WorkloadKind::burst;
}
enum class Backpressure { block, timeout, drop };
// How consumers learn that the run is over, once every producer is done.
enum class Shutdown {
  close,   // queue.close(): consumers drain what is left, then pop returns closed
  poison,  // one poison pill per consumer pushed after the last item; a consumer stops at its pill
  poll,    // a stop flag, checked by consumers between timed pops (poll_interval)
};
// How paced producers wait for the next intended send time.
enum class Pacing {
  sleep,  // clock_nanosleep to the intended time: cheap, sends 30-50 us late on a VM (as lag)
  spin,   // sleep, then spin the last 60 us: precise, but keeps a core busy at high rates
};
// Gaps between consecutive arrivals of one producer.
enum class Gaps {
  fixed,        // every gap is exactly 1/rate (a metronome)
  exponential,  // gaps ~ Exp(rate): Poisson arrivals, the classic open-system model
};
// Consumer work per item (workloads/service.hpp).
enum class ServiceDist { none, fixed, exponential };
enum class ServiceMode { spin, sleep };
// How a run ended: correct and complete (ok), or why not.
enum class Verdict { ok, failed, stalled, memory_cap, interrupted };
// Where the threads of a pinned run go (harness/topology.hpp).
enum class Placement {
  spread,        // producers and consumers alternate over the allowed CPUs
  same_core,     // producer i and consumer i on the two SMT siblings of one core
  same_socket,   // on two different cores of one package
  cross_socket,  // on two packages
};
// The clock every timestamp of a run is read from (harness/clock.hpp).
enum class ClockChoice {
  automatic,  // the TSC where it is invariant and the kernel keeps time with it, else monotonic
  tsc,        // the TSC, refused where it is not usable
  monotonic,  // clock_gettime(CLOCK_MONOTONIC)
};

// The names of an enumeration's values, in declaration order: the one place they are spelled.
template <class E>
struct EnumNames;
template <>
struct EnumNames<WorkloadKind> {
  static constexpr std::array<std::string_view, 5> names = {"steady", "burst", "flood", "tree",
                                                            "pingpong"};
};
template <>
struct EnumNames<Backpressure> {
  static constexpr std::array<std::string_view, 3> names = {"block", "timeout", "drop"};
};
template <>
struct EnumNames<Shutdown> {
  static constexpr std::array<std::string_view, 3> names = {"close", "poison", "poll"};
};
template <>
struct EnumNames<Pacing> {
  static constexpr std::array<std::string_view, 2> names = {"sleep", "spin"};
};
template <>
struct EnumNames<Gaps> {
  static constexpr std::array<std::string_view, 2> names = {"fixed", "exponential"};
};
template <>
struct EnumNames<ServiceDist> {
  static constexpr std::array<std::string_view, 3> names = {"none", "fixed", "exponential"};
};
template <>
struct EnumNames<ServiceMode> {
  static constexpr std::array<std::string_view, 2> names = {"spin", "sleep"};
};
template <>
struct EnumNames<Placement> {
  static constexpr std::array<std::string_view, 4> names = {"spread", "same-core", "same-socket",
                                                            "cross-socket"};
};
template <>
struct EnumNames<ClockChoice> {
  static constexpr std::array<std::string_view, 3> names = {"auto", "tsc", "monotonic"};
};
template <>
struct EnumNames<Verdict> {
  static constexpr std::array<std::string_view, 5> names = {"ok", "failed", "stalled", "memory_cap",
                                                            "interrupted"};
};

template <class E>
concept NamedEnum = requires {
  EnumNames<E>::names;
};

template <NamedEnum E>
constexpr std::string_view to_string(E e) {
  const auto i = static_cast<std::size_t>(e);
  return i < EnumNames<E>::names.size() ? EnumNames<E>::names[i] : "?";
}

template <NamedEnum E>
constexpr std::optional<E> from_string(std::string_view s) {
  for (std::size_t i = 0; i < EnumNames<E>::names.size(); ++i)
    if (EnumNames<E>::names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

// "a, b or c": the accepted names, for an error message.
template <NamedEnum E>
std::string accepted_names() {
  std::string s;
  const auto& n = EnumNames<E>::names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (i) s += i + 1 == n.size() ? " or " : ", ";
    s += n[i];
  }
  return s;
}

}  // namespace qb
