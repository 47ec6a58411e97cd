// Consumer service time: how long a consumer "works" on each item it pops. A run option that
// combines with every workload (--work); one ServiceTime per consumer thread, no sharing.
//
// Distribution: none (0), fixed (always mean_ns) or exponential (mean mean_ns; with Poisson
// arrivals this makes an M/M/c system whose queueing theory is known).
// Mode: spin burns CPU until the deadline, like compute-bound work: the consumer keeps its core,
//   so the cost of the queue's waiting strategy shows next to real work. It polls steady_clock
//   (a vDSO call, ~20 ns) rather than counting loop iterations, so it does not depend on the
//   CPU's speed or the compiler.
// sleep blocks, like waiting on I/O: clock_nanosleep to an absolute CLOCK_MONOTONIC deadline
//   (EINTR resumes it without stretching the wait). The kernel adds its timer slack (50 us by
//   default, see prctl(PR_SET_TIMERSLACK)) and the wake-up latency: a sleep is never shorter
//   than asked and often tens of us longer, which is what blocking I/O looks like too.
#pragma once

#include <time.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "core/kinds.hpp"
#include "workloads/schedule.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace qb {

class ServiceTime {
 public:
  // Precondition (std::invalid_argument otherwise): mean_ns >= 0; it is ignored for none.
  // The seed is used only by exponential.
  ServiceTime(ServiceDist dist, std::int64_t mean_ns, ServiceMode mode, std::uint64_t seed)
      : rng_(seed), dist_(dist), mode_(mode), mean_ns_(checked_mean(mean_ns)) {}

  // The next service time in ns: 0 for none, mean_ns for fixed, an Exp(1/mean) draw rounded to
  // whole ns for exponential (at most ~36.7 * mean_ns, the largest Rng::exp1()).
  std::int64_t draw() noexcept {
    switch (dist_) {
      case ServiceDist::none:
        return 0;
      case ServiceDist::fixed:
        return mean_ns_;
      case ServiceDist::exponential:
        return static_cast<std::int64_t>(static_cast<double>(mean_ns_) * rng_.exp1() + 0.5);
    }
    return 0;
  }

  // Draws a service time and performs it. none returns at once, without reading the clock.
  void serve() noexcept {
    if (dist_ == ServiceDist::none) return;
    serve_ns(draw());
  }

  // Performs a service time of d ns in this object's mode; d <= 0 returns at once.
  void serve_ns(std::int64_t d) noexcept {
    if (d <= 0) return;
    if (mode_ == ServiceMode::spin) {
      using Clock = std::chrono::steady_clock;
      const auto deadline = Clock::now() + std::chrono::nanoseconds(d);
      while (Clock::now() < deadline)
        cpu_relax();
    } else {
      timespec at{};
      clock_gettime(CLOCK_MONOTONIC, &at);
      const std::int64_t ns = at.tv_nsec + d % 1'000'000'000;
      at.tv_sec += static_cast<time_t>(d / 1'000'000'000 + ns / 1'000'000'000);
      at.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      // clock_nanosleep returns the error number instead of setting errno.
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
    }
  }

  ServiceDist dist() const noexcept { return dist_; }
  ServiceMode mode() const noexcept { return mode_; }
  std::int64_t mean_ns() const noexcept { return dist_ == ServiceDist::none ? 0 : mean_ns_; }

 private:
  static std::int64_t checked_mean(std::int64_t mean_ns) {
    detail::require(mean_ns >= 0, "ServiceTime: mean_ns must be >= 0");
    return mean_ns;
  }

  // The spin-wait hint (x86 pause): saves power and leaves the pipeline to a hyper-thread
  // sibling. A private copy so that workloads/ depends on nothing outside the standard library.
  static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
  }

  Rng rng_;
  ServiceDist dist_;
  ServiceMode mode_;
  std::int64_t mean_ns_;
};

}  // namespace qb
