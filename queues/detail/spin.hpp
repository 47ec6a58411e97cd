// CPU-level helpers shared by the queues: the spin-wait hint and deadlines.
#pragma once

#include <chrono>
#include <cstddef>

#include "../concept.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace qb::detail {

// Tells the CPU we are spinning (x86 `pause`): saves power and yields the core's pipeline to a
// sibling hyper-thread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

// Cache-line size used for alignment (GCC 12 warns on hardware_destructive_interference_size
// in headers, so we name it ourselves).
inline constexpr std::size_t cache_line = 64;
// What two threads' data must not share: a line and the adjacent one, which Intel's spatial
// prefetcher fetches in pairs. The harness aligns each queue it holds to one, and the member after
// it, so a queue's layout in cache lines is the same whatever precedes it, in a run and in its bare
// reference alike.
inline constexpr std::size_t false_sharing_block = 2 * cache_line;

// A deadline on steady_clock that copes with qb::forever (no overflow, never expires).
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Deadline(std::chrono::nanoseconds timeout) noexcept
      : forever_(timeout == qb::forever || timeout > std::chrono::hours(24 * 365)),
        at_(forever_ ? Clock::time_point::max()
                     : Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout)) {}
  [[nodiscard]] bool forever() const noexcept { return forever_; }
  [[nodiscard]] bool expired() const noexcept { return !forever_ && Clock::now() >= at_; }
  [[nodiscard]] Clock::time_point at() const noexcept { return at_; }
  // Time left, zero when expired; qb::forever when untimed.
  [[nodiscard]] std::chrono::nanoseconds remaining() const noexcept {
    if (forever_) return qb::forever;
    auto left = at_ - Clock::now();
    return left.count() > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                            : std::chrono::nanoseconds{0};
  }

 private:
  bool forever_;
  Clock::time_point at_;
};

}  // namespace qb::detail
