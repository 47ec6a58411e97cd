// Waiting for another thread in a measuring loop (qbench calibrate, qbench bare): the CPU's pause
// hint while the other thread is likely running on its own CPU, then a yield per check once
// `spin_limit` pauses went by without news (it was preempted, or it shares our only CPU and cannot
// run until we give the CPU up). Inline, no call per pause. Only the yielding path looks at the
// stop flag, so the spinning path costs what a bare spin costs.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "queues/detail/spin.hpp"

namespace qb {

class Backoff {
 public:
  Backoff(std::uint32_t spin_limit, const std::atomic<bool>& stop) noexcept
      : limit_(spin_limit), stop_(stop) {}
  void reset() noexcept { spins_ = 0; }
  // False once the controller has stopped the measurement.
  [[nodiscard]] bool wait() noexcept {
    if (spins_ < limit_) {
      ++spins_;
      detail::cpu_relax();
      return true;
    }
    std::this_thread::yield();
    // relaxed: a request to give up; nothing is read through it.
    return !stop_.load(std::memory_order_relaxed);
  }

 private:
  std::uint32_t limit_;
  std::uint32_t spins_ = 0;
  const std::atomic<bool>& stop_;
};

// About 0.2 ms of pauses on current x86 before the first yield: for threads on CPUs of their own.
inline constexpr std::uint32_t spin_limit_pinned = 4096;
// Threads that share CPUs (oversubscribed): the one we wait for may need our CPU, so yield soon.
inline constexpr std::uint32_t spin_limit_shared = 16;

}  // namespace qb
