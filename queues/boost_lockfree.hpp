// boost_lockfree: boost::lockfree::queue (Boost 1.74, Debian's libboost-dev), a Michael-Scott
// linked queue over a pre-allocated node free list, used through bounded_push so that it never
// allocates after construction.
//
// Source: M. Michael, M. Scott, "Simple, Fast, and Practical Non-Blocking and Blocking
//   Concurrent Queue Algorithms", PODC 1996; the Boost.Lockfree implementation by T. Blechmann.
// Progress: lock-free (CAS loops on head/tail with tagged pointers against ABA).
// Ordering: FIFO. Bound: exact: capacity nodes are allocated up front (plus the dummy node);
//   bounded_push fails when the free list is empty. No unbounded mode here.
// Size: the library keeps no count, so approx_size() is qb::size_unknown.
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <boost/lockfree/queue.hpp>
#include <cstddef>
#include <string_view>

#include "concept.hpp"

namespace qb {

inline constexpr std::string_view boost_lockfree_name = "boost_lockfree";
inline constexpr std::string_view boost_lockfree_summary =
    "boost::lockfree::queue (Michael-Scott, fixed node pool), bounded_push";

template <class T>
class BoostLockfree {
 public:
  using value_type = T;
  static constexpr std::string_view name = boost_lockfree_name;
  static constexpr std::string_view summary = boost_lockfree_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::lock_free};

  explicit BoostLockfree(const QueueOptions& o) : capacity_(o.capacity), q_(o.capacity) {}

  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) { return q_.bounded_push(v); }
  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) { return q_.pop(out); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t approx_size() const noexcept { return size_unknown; }

 private:
  std::size_t capacity_;
  boost::lockfree::queue<T, boost::lockfree::fixed_sized<false>> q_;
};

}  // namespace qb
