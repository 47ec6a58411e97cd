// Arrival schedules: WHEN each producer sends its next item, nothing else.
//
// A schedule belongs to one producer thread (no sharing, no atomics). The producer calls next()
// once per item and gets the item's *intended* send time in ns since the run's start; the harness
// waits until then (or sends at once if it is already late) and measures latency from the
// intended time, as wrk2 does. A producer that falls behind therefore never shifts the schedule,
// so there is no coordinated omission: the lag shows up in the latency of the late items.
//
// Every rate is items per second for ONE producer; the harness splits a total rate over its
// producers. next() allocates nothing, makes no virtual call and costs a few ns (a multiply, a
// compare and, for Poisson gaps, one log).
//
// Method: the rate r(t) is piecewise constant, and Λ(t) = ∫_0^t r is the cumulative intensity.
// Arrival k happens where Λ reaches U_k = u_1 + ... + u_k, with u = 1 for fixed gaps and
// u ~ Exp(1) for Poisson arrivals (the time-rescaling theorem turns a unit-rate Poisson process
// into one with intensity r(t)). So a gap that starts in one rate segment and ends in the next is
// split correctly between them. The position is kept as (whole segment index, residual units in
// the segment): times are index * segment_ns + residual / rate, so rounding never accumulates
// across segments and long runs do not drift (10^7 fixed gaps at 1 M/s land on 10 s exactly).
//
// The first arrival is at U_1, not at 0: one fixed gap (or an Exp(1)/rate wait) after the start.
// Where a zero rate makes Λ flat, an arrival whose U lands exactly on the flat level is placed at
// the END of the flat stretch (arrival = inf{t : Λ(t) > U}), so on/off bursts with fixed gaps
// send their last unit at the next burst's start rather than at the instant the burst closes.
//
// Preconditions are checked in the constructors, which throw std::invalid_argument (the CLI
// validates user input first; these catch programming errors in release builds too).
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <stdexcept>

#include "core/kinds.hpp"

namespace qb {

// splitmix64 (Steele, Lea, Flood 2014; Vigna's reference code): advances `state` and returns
// the next output. Used to expand one seed into xoshiro's 256-bit state.
inline constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** 1.0 (Blackman and Vigna, 2018), seeded through splitmix64 so that any seed,
// including 0, gives a good non-zero state. Fast (about 1 ns), not cryptographic. Also a
// UniformRandomBitGenerator, so it works with <random> distributions and std::shuffle.
class Rng {
 public:
  using result_type = std::uint64_t;

  explicit constexpr Rng(std::uint64_t seed) noexcept {
    for (auto& word : s_)
      word = splitmix64(seed);
  }

  constexpr std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  constexpr std::uint64_t operator()() noexcept { return next(); }
  static constexpr std::uint64_t min() noexcept { return 0; }
  static constexpr std::uint64_t max() noexcept { return ~std::uint64_t{0}; }

  // The top 53 bits as a double in (0, 1]: 2^-53 for all-zero bits, exactly 1 for all ones.
  // The interval excludes 0 so that -log(u) is always finite.
  static constexpr double uniform01_from_bits(std::uint64_t bits) noexcept {
    return static_cast<double>((bits >> 11) + 1) * 0x1.0p-53;
  }

  // Uniform in (0, 1] (never 0, sometimes exactly 1).
  constexpr double uniform01() noexcept { return uniform01_from_bits(next()); }

  // Exp(1) by inversion: -log(u) with u in (0, 1], so the result is in [0, 53 ln 2 ≈ 36.7].
  double exp1() noexcept { return -std::log(uniform01()); }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
};

// What the producer loop needs from a schedule. paced == false means "send as fast as you
// can": the harness ignores next() and stamps the intended time itself.
template <class S>
concept ArrivalSchedule = requires(S& s) {
  { S::paced } -> std::convertible_to<bool>;
  { s.next() }
  noexcept->std::same_as<std::int64_t>;
};

namespace detail {

inline void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

inline bool finite_non_negative(double x) noexcept {
  return std::isfinite(x) && x >= 0.0;
}

// Rounds a non-negative offset inside one segment to whole ns (half up). Cheaper than llround,
// which is a libm call; the argument is never negative and far below 2^53.
inline std::int64_t round_ns(double x) noexcept {
  return static_cast<std::int64_t>(x + 0.5);
}

}  // namespace detail

// A constant rate for one producer, with fixed or exponential (Poisson) gaps.
// Precondition: rate_per_s is finite and > 0. The seed is unused for fixed gaps.
class SteadySchedule {
 public:
  static constexpr bool paced = true;

  SteadySchedule(double rate_per_s, Gaps gaps, std::uint64_t seed)
      : rng_(seed),
        gaps_(gaps),
        units_per_segment_(checked_rate(rate_per_s)),
        ns_per_unit_(1e9 / rate_per_s) {}

  // Intended time of the next item, ns since the run's start; non-decreasing.
  std::int64_t next() noexcept {
    residual_ += gaps_ == Gaps::fixed ? 1.0 : rng_.exp1();
    // Segments are 1 s long, so one segment holds rate_per_s units.
    if (residual_ >= units_per_segment_) carry();
    return segment_ * kSegmentNs + detail::round_ns(residual_ * ns_per_unit_);
  }

  double rate_per_s() const noexcept { return units_per_segment_; }
  Gaps gaps() const noexcept { return gaps_; }

 private:
  static constexpr std::int64_t kSegmentNs = 1'000'000'000;

  static double checked_rate(double rate_per_s) {
    detail::require(std::isfinite(rate_per_s) && rate_per_s > 0.0,
                    "SteadySchedule: rate_per_s must be finite and > 0");
    return rate_per_s;
  }

  // Rare (once per second of schedule, or per item below 1 item/s): the common path is an add
  // and a compare. Division, not a loop: at 0.001 items/s one gap spans 1000 segments.
  void carry() noexcept {
    const double whole = std::floor(residual_ / units_per_segment_);
    segment_ += static_cast<std::int64_t>(whole);
    residual_ -= whole * units_per_segment_;
    // Rounding in the line above may leave the residual a hair outside [0, units).
    if (residual_ < 0.0) {
      residual_ += units_per_segment_;
      --segment_;
    } else if (residual_ >= units_per_segment_) {
      residual_ -= units_per_segment_;
      ++segment_;
    }
  }

  Rng rng_;
  Gaps gaps_;
  double units_per_segment_;  // == rate_per_s: arrivals per 1 s segment
  double ns_per_unit_;        // == the fixed gap in ns
  std::int64_t segment_ = 0;  // whole seconds since the start
  double residual_ = 0.0;     // units into the current segment, in [0, units_per_segment_)
};

// A base rate with periodic bursts at a peak rate. Burst windows are
//   [first_burst_at_ns + k * period_ns, first_burst_at_ns + k * period_ns + burst_ns), k in Z,
// so with the default offset 0 the run starts with a burst. The pattern is periodic in both
// directions, as if it had been running since before time 0: an offset o (taken modulo
// period_ns, into [0, period)) puts the next burst start o ns after the run's start, and the run
// starts in the base phase when burst_ns <= o, else inside the tail of the previous burst.
//
// Degenerate cases are allowed and mean what they say:
//   burst_ns == period_ns  peak rate throughout (base_rate_per_s is ignored);
//   burst_ns == 0          base rate throughout (peak is ignored; in_burst() is always false);
//   base_rate_per_s == 0   on/off traffic: arrivals only inside bursts;
//   peak < base            a periodic lull rather than a burst.
// Preconditions (std::invalid_argument otherwise): rates finite and >= 0; period_ns > 0;
// 0 <= burst_ns <= period_ns; and each period holds some arrivals (peak * burst +
// base * (period - burst) > 0), or next() would never return.
class BurstSchedule {
 public:
  static constexpr bool paced = true;

  BurstSchedule(double base_rate_per_s, double peak_rate_per_s, std::int64_t burst_ns,
                std::int64_t period_ns, Gaps gaps, std::uint64_t seed,
                std::int64_t first_burst_at_ns = 0)
      : rng_(seed), gaps_(gaps), period_ns_(period_ns), burst_ns_(burst_ns) {
    detail::require(detail::finite_non_negative(base_rate_per_s),
                    "BurstSchedule: base_rate_per_s must be finite and >= 0");
    detail::require(detail::finite_non_negative(peak_rate_per_s),
                    "BurstSchedule: peak_rate_per_s must be finite and >= 0");
    detail::require(period_ns > 0, "BurstSchedule: period_ns must be > 0");
    detail::require(burst_ns >= 0 && burst_ns <= period_ns,
                    "BurstSchedule: burst_ns must be in [0, period_ns]");
    // rate * ns / 1e9 rather than rate * 1e-9 * ns: exact whenever the true count is a whole
    // number (1e-9 is not a double), so fixed gaps fall exactly on the phase boundaries.
    const auto units = [](double rate, std::int64_t ns) {
      return ns > 0 ? rate * static_cast<double>(ns) / 1e9 : 0.0;
    };
    burst_units_ = units(peak_rate_per_s, burst_ns);
    period_units_ = burst_units_ + units(base_rate_per_s, period_ns - burst_ns);
    detail::require(std::isfinite(period_units_) && period_units_ > 0.0,
                    "BurstSchedule: a period must hold some arrivals (peak*burst + "
                    "base*(period-burst) > 0)");
    // A phase with a zero rate holds zero units, so next() never selects it.
    ns_per_peak_unit_ = peak_rate_per_s > 0.0 ? 1e9 / peak_rate_per_s : 0.0;
    ns_per_base_unit_ = base_rate_per_s > 0.0 ? 1e9 / base_rate_per_s : 0.0;

    // Internal periods start at origin_ns_ + k * period_ns, k >= 0, with origin_ns_ in
    // (-period, 0]; time 0 lies `into` ns into period 0, where Λ has already reached
    // residual_ units.
    offset_ns_ = ((first_burst_at_ns % period_ns) + period_ns) % period_ns;
    origin_ns_ = offset_ns_ == 0 ? 0 : offset_ns_ - period_ns;
    const std::int64_t into = -origin_ns_;
    residual_ = into <= burst_ns ? units(peak_rate_per_s, into)
                                 : burst_units_ + units(base_rate_per_s, into - burst_ns);
  }

  // Intended time of the next item, ns since the run's start; non-decreasing, >= 0.
  std::int64_t next() noexcept {
    residual_ += gaps_ == Gaps::fixed ? 1.0 : rng_.exp1();
    if (residual_ >= period_units_) carry();
    const double in_period =
        residual_ < burst_units_
            ? residual_ * ns_per_peak_unit_
            : static_cast<double>(burst_ns_) + (residual_ - burst_units_) * ns_per_base_unit_;
    std::int64_t t = origin_ns_ + period_ * period_ns_ + detail::round_ns(in_period);
    // Rounding at a phase boundary could otherwise step back by 1 ns, or below 0 for an
    // Exp(1) draw of exactly 0 at the start.
    if (t < last_) t = last_;
    last_ = t;
    return t;
  }

  // Is t (ns since the run's start; any value, the pattern is periodic) inside a burst window?
  bool in_burst(std::int64_t t_ns) const noexcept {
    std::int64_t r = (t_ns - offset_ns_) % period_ns_;
    if (r < 0) r += period_ns_;
    return r < burst_ns_;
  }

  std::int64_t period_ns() const noexcept { return period_ns_; }
  std::int64_t burst_ns() const noexcept { return burst_ns_; }
  std::int64_t first_burst_at_ns() const noexcept { return offset_ns_; }  // in [0, period)
  Gaps gaps() const noexcept { return gaps_; }

 private:
  void carry() noexcept {
    const double whole = std::floor(residual_ / period_units_);
    period_ += static_cast<std::int64_t>(whole);
    residual_ -= whole * period_units_;
    if (residual_ < 0.0) {
      residual_ += period_units_;
      --period_;
    } else if (residual_ >= period_units_) {
      residual_ -= period_units_;
      ++period_;
    }
  }

  Rng rng_;
  Gaps gaps_;
  std::int64_t period_ns_;
  std::int64_t burst_ns_;
  std::int64_t offset_ns_ = 0;  // first burst start, normalised to [0, period)
  std::int64_t origin_ns_ = 0;  // start of internal period 0, in (-period, 0]
  double burst_units_ = 0.0;    // Λ over a burst window: peak * burst
  double period_units_ = 0.0;   // Λ over a whole period
  double ns_per_peak_unit_ = 0.0;
  double ns_per_base_unit_ = 0.0;
  std::int64_t period_ = 0;  // whole periods since origin_ns_
  double residual_ = 0.0;    // units into the current period, in [0, period_units_)
  std::int64_t last_ = 0;    // last returned time, for the monotonicity guard
};

// No pacing: the producer sends as fast as it can, and the harness stamps the intended time
// with the actual send time (so latency = sojourn). For maximum-throughput curves.
class FloodSchedule {
 public:
  static constexpr bool paced = false;
  std::int64_t next() noexcept { return 0; }
};

static_assert(ArrivalSchedule<SteadySchedule> && ArrivalSchedule<BurstSchedule> &&
                  ArrivalSchedule<FloodSchedule>,
              "every schedule satisfies the producer loop's contract");

}  // namespace qb
