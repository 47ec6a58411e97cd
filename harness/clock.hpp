// The clock every timestamp of a run is read from: qb::now_ns(), nanoseconds on one time line
// shared by every thread of the process.
//
// Two sources. CLOCK_MONOTONIC through the vDSO (the kernel reads the TSC, or the hypervisor's
// clock, and scales it under a sequence lock), or the TSC read directly with rdtscp and scaled
// here, which skips the vDSO's sequence lock and call: about 24 against 31 ns a read on this
// project's 2-core VM (the context column clock_cost_ns says what it was on yours).
//
// The TSC is used only where it keeps time as well as the kernel's clock does: the CPU says it is
// invariant (CPUID 0x80000007 EDX bit 8: constant rate in every power state, as Intel SDM vol. 3
// 17.17 and AMD APM vol. 2 define it), it has rdtscp, and the kernel's clocksource is `tsc` (the
// kernel checked at boot that the CPUs' counters are synchronised, and its watchdog drops the TSC
// when it drifts; a VM on kvm-clock does not get it). Its rate is calibrated against
// CLOCK_MONOTONIC over 20 ms when the clock is selected (each end a clock_gettime pair bracketing
// one rdtscp, the tightest of 16), so now_ns() and CLOCK_MONOTONIC start equal and part by about
// a microsecond per second at most; sleep_until_ns() converts its deadline at the call, so that
// drift never reaches a sleep.
//
// rdtscp, not rdtsc: rdtscp waits until every earlier instruction has executed, so the time a
// consumer reads after a pop is never taken before the pop's load completed (rdtsc may run ahead
// of a cache miss and read the time early), the same ordering the kernel's vDSO uses.
//
// The choice is made once per command, before any thread of a run starts (select_clock), and is
// read by every now_ns() without synchronisation: it is written before the threads that read it
// are created.
#pragma once

#include <time.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/kinds.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace qb {

// CLOCK_MONOTONIC through the vDSO.
inline std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace clock_detail {
__extension__ using Wide = __int128;  // ticks x scale needs more than 64 bits after an hour
// ns = base_ns + (ticks - base_ticks) * ns_per_tick_q32 / 2^32, when `tsc` is set.
struct TscScale {
  bool tsc = false;
  std::uint64_t base_ticks = 0;
  std::int64_t base_ns = 0;
  std::int64_t ns_per_tick_q32 = 0;
};
inline TscScale scale{};

#if defined(__x86_64__)
inline std::uint64_t read_tsc() noexcept {
  unsigned aux;
  return __rdtscp(&aux);
}
#endif
}  // namespace clock_detail

// The run's clock (see the top of this file).
inline std::int64_t now_ns() noexcept {
#if defined(__x86_64__)
  const clock_detail::TscScale& s = clock_detail::scale;
  if (s.tsc) {
    // Signed: a thread may read a count a few cycles before base_ticks (the CPUs' counters are
    // synchronised, not identical).
    const auto d = static_cast<std::int64_t>(clock_detail::read_tsc() - s.base_ticks);
    return s.base_ns + static_cast<std::int64_t>(
                           (static_cast<clock_detail::Wide>(d) * s.ns_per_tick_q32) >> 32);
  }
#endif
  return monotonic_ns();
}

// What decides whether the TSC can be the clock.
struct ClockFacts {
  bool x86_64 = false;
  bool invariant_tsc = false;  // CPUID 0x80000007 EDX bit 8
  bool rdtscp = false;         // CPUID 0x80000001 EDX bit 27
  std::string clocksource;     // the kernel's current clocksource ("tsc", "kvm-clock", ...)
};
// This machine's facts; the clocksource from `sysfs_root`/devices/system/clocksource/
// clocksource0/current_clocksource (tests pass a fake tree).
ClockFacts read_clock_facts(const std::string& sysfs_root = "/sys");

struct ClockPlan {
  bool tsc = false;
  std::string why;  // why the TSC is used or not, for the context column `clock`
};
// Thrown when `--clock tsc` is asked for on a machine whose TSC is not usable.
struct ClockUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The choice for `requested` on a machine with `facts`; throws ClockUnavailable for tsc where the
// TSC is not usable (automatic falls back to monotonic and says why).
ClockPlan plan_clock(ClockChoice requested, const ClockFacts& facts);

// Selects the clock of this process's runs: plans on this machine's facts, calibrates the TSC if
// it is chosen (20 ms), and returns the description for the context column `clock`; the same
// choice again changes nothing. Call before the threads that read now_ns() start. Throws
// ClockUnavailable (see plan_clock).
std::string select_clock(ClockChoice requested);
// The description of the clock in use (the last select_clock's, or monotonic's).
const std::string& clock_description();

// Sleeps until `t` (a now_ns() time, absolute). Returns at once if `t` has passed.
void sleep_until_ns(std::int64_t t) noexcept;

}  // namespace qb
