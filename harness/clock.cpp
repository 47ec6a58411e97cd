#include "harness/clock.hpp"

#include <errno.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace qb {

namespace {

std::string clock_description_text = "clock_gettime(CLOCK_MONOTONIC)";

#if defined(__x86_64__)
// One (CLOCK_MONOTONIC, TSC) reading: the rdtscp between two clock reads, the tightest pair of
// `tries`, stamped at the pair's midpoint.
struct Reading {
  std::int64_t ns = 0;
  std::uint64_t ticks = 0;
  std::int64_t window_ns = INT64_MAX;
};

Reading read_both(int tries) {
  Reading best;
  for (int i = 0; i < tries; ++i) {
    const std::int64_t a = monotonic_ns();
    const std::uint64_t t = clock_detail::read_tsc();
    const std::int64_t b = monotonic_ns();
    if (b - a < best.window_ns)
      best = Reading{.ns = a + (b - a) / 2, .ticks = t, .window_ns = b - a};
  }
  return best;
}

// Calibrates the TSC against CLOCK_MONOTONIC over `span_ns`; false (and `why`) when the result is
// not a clock (the TSC did not advance with CLOCK_MONOTONIC, or a rate outside 0.1-20 GHz).
bool calibrate_tsc(std::int64_t span_ns, clock_detail::TscScale& out, double& ghz,
                   std::string& why) {
  const Reading a = read_both(16);
  const timespec pause{0, static_cast<long>(span_ns)};
  nanosleep(&pause, nullptr);
  const Reading b = read_both(16);
  if (b.ticks <= a.ticks || b.ns <= a.ns) {
    why = "the TSC did not advance with CLOCK_MONOTONIC";
    return false;
  }
  const auto ticks = static_cast<clock_detail::Wide>(b.ticks - a.ticks);
  const auto q32 =
      static_cast<std::int64_t>((static_cast<clock_detail::Wide>(b.ns - a.ns) << 32) / ticks);
  ghz = static_cast<double>(b.ticks - a.ticks) / static_cast<double>(b.ns - a.ns);
  if (!(ghz > 0.1 && ghz < 20)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "a TSC rate of %.3g GHz is not believable", ghz);
    why = buf;
    return false;
  }
  out = clock_detail::TscScale{
      .tsc = true, .base_ticks = b.ticks, .base_ns = b.ns, .ns_per_tick_q32 = q32};
  return true;
}
#endif

ClockUnavailable unusable(const std::string& why) {
  return ClockUnavailable("the TSC is not usable as a clock here: " + why +
                          "; expected auto or monotonic");
}

}  // namespace

ClockFacts read_clock_facts(const std::string& sysfs_root) {
  ClockFacts f;
#if defined(__x86_64__)
  f.x86_64 = true;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000007, &a, &b, &c, &d)) f.invariant_tsc = (d >> 8) & 1;
  if (__get_cpuid(0x80000001, &a, &b, &c, &d)) f.rdtscp = (d >> 27) & 1;
#endif
  std::ifstream in(sysfs_root + "/devices/system/clocksource/clocksource0/current_clocksource");
  std::getline(in, f.clocksource);
  return f;
}

ClockPlan plan_clock(ClockChoice requested, const ClockFacts& f) {
  if (requested == ClockChoice::monotonic) return {.tsc = false, .why = "asked for"};
  std::string lacks;
  if (!f.x86_64) {
    lacks = "not an x86-64 CPU";
  } else if (!f.invariant_tsc) {
    lacks = "the CPU's TSC is not invariant";
  } else if (!f.rdtscp) {
    lacks = "the CPU has no rdtscp";
  } else if (f.clocksource != "tsc") {
    lacks = "the kernel keeps time with " +
            (f.clocksource.empty() ? std::string("an unknown clocksource") : f.clocksource) +
            ", not the TSC";
  }
  if (lacks.empty()) return {.tsc = true, .why = "invariant, the kernel's clocksource"};
  if (requested == ClockChoice::tsc) throw unusable(lacks);
  return {.tsc = false, .why = "no TSC clock: " + lacks};
}

std::string select_clock(ClockChoice requested) {
  // Once per choice: the steps of a suite select the same clock again, and a thread a stalled run
  // abandoned may still be reading it.
  static std::optional<ClockChoice> selected;
  if (selected == requested) return clock_description_text;
  const ClockPlan plan = plan_clock(requested, read_clock_facts());
  clock_detail::scale = clock_detail::TscScale{};
  std::string text = "clock_gettime(CLOCK_MONOTONIC) (" + plan.why + ")";
#if defined(__x86_64__)
  if (plan.tsc) {
    clock_detail::TscScale s;
    double ghz = 0;
    std::string why;
    if (calibrate_tsc(20'000'000, s, ghz, why)) {
      clock_detail::scale = s;
      char buf[160];
      std::snprintf(buf, sizeof buf,
                    "rdtscp, %.4f GHz calibrated against CLOCK_MONOTONIC over 20 ms (%s)", ghz,
                    plan.why.c_str());
      text = buf;
    } else if (requested == ClockChoice::tsc) {
      throw unusable(why);
    } else {
      text = "clock_gettime(CLOCK_MONOTONIC) (no TSC clock: " + why + ")";
    }
  }
#endif
  clock_description_text = text;
  selected = requested;
  return text;
}

const std::string& clock_description() {
  return clock_description_text;
}

void sleep_until_ns(std::int64_t t) noexcept {
  // The deadline on CLOCK_MONOTONIC's time line: now_ns() and CLOCK_MONOTONIC may part slowly
  // (a TSC clock's calibration), so the offset is taken now, not at selection.
  const std::int64_t offset = clock_detail::scale.tsc ? monotonic_ns() - now_ns() : 0;
  const std::int64_t at = t + offset;
  if (at <= 0) return;
  timespec ts{static_cast<time_t>(at / 1'000'000'000), static_cast<long>(at % 1'000'000'000)};
  // clock_nanosleep returns the error number instead of setting errno.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace qb
