// mutex_deque: a mutex-guarded buffer with try-operations only, the base of the waiting
// anti-patterns: `mutex_deque+spin` (busy-wait polling) and `mutex_deque+sleep:N` (sleep
// polling) are what people write when they have a lock but no condition variable.
//
// Storage: qb::detail::Ring, the same buffer as mutex_cv and split_cv rather than std::deque,
//   whose block allocation every ~20 items would make the comparison about the allocator
//   instead of about how threads wait.
// Progress: blocking (a preempted lock holder stalls the others). Ordering: FIFO.
// Bound: exact, or unbounded with qb::unbounded.
// Close: none of its own; the wait-strategy wrapper (wait_strategies.hpp) provides it.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string_view>

#include "concept.hpp"
#include "detail/ring.hpp"

namespace qb {

inline constexpr std::string_view mutex_deque_name = "mutex_deque";
inline constexpr std::string_view mutex_deque_summary = "std::mutex + ring buffer, try-only";

template <class T>
class MutexDeque {
 public:
  using value_type = T;
  static constexpr std::string_view name = mutex_deque_name;
  static constexpr std::string_view summary = mutex_deque_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::blocking,
                                      .allows_unbounded = true};

  explicit MutexDeque(const QueueOptions& o) : ring_(o.capacity) {}
  MutexDeque(const MutexDeque&) = delete;
  MutexDeque& operator=(const MutexDeque&) = delete;

  // Inlined wherever they are called, as every queue's try operations are (the harness's loops
  // and the bare reference's alike; tests/test_scripts.py BareCodegenTest).
  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) {
    std::lock_guard lk(m_);
    if (ring_.full()) return false;
    ring_.push_back(v);
    size_.store(ring_.size(), std::memory_order_relaxed);
    return true;
  }

  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) {
    std::lock_guard lk(m_);
    if (ring_.empty()) return false;
    out = ring_.pop_front();
    size_.store(ring_.size(), std::memory_order_relaxed);
    return true;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.capacity(); }
  [[nodiscard]] std::size_t approx_size() const noexcept {
    // relaxed: a statistic for samplers, stale on return by contract.
    return size_.load(std::memory_order_relaxed);
  }

 private:
  std::mutex m_;
  detail::Ring<T> ring_;
  std::atomic<std::size_t> size_{0};
};

namespace detail {
struct MutexDequeProbe {
  std::uint64_t a, b, c;
};
}  // namespace detail
static_assert(TryQueue<MutexDeque<detail::MutexDequeProbe>>);

}  // namespace qb
