// boost_spsc: boost::lockfree::spsc_queue (Boost 1.74), a single-producer single-consumer ring
// buffer with a runtime capacity.
//
// Source: the classic Lamport ring (L. Lamport, "Specifying Concurrent Program Modules", 1983)
//   with C++11 acquire/release indices, Boost.Lockfree by T. Blechmann.
// Progress: wait-free, for exactly ONE producer thread and ONE consumer thread: traits say
//   max_producers = max_consumers = 1 and the registry refuses any other shape.
// Ordering: FIFO. Bound: exact (the library allocates capacity + 1 slots and keeps one empty).
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <string_view>

#include "concept.hpp"

namespace qb {

inline constexpr std::string_view boost_spsc_name = "boost_spsc";
inline constexpr std::string_view boost_spsc_summary =
    "boost::lockfree::spsc_queue (Lamport ring), one producer and one consumer only";

template <class T>
class BoostSpsc {
 public:
  using value_type = T;
  static constexpr std::string_view name = boost_spsc_name;
  static constexpr std::string_view summary = boost_spsc_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::wait_free,
                                      .max_producers = 1,
                                      .max_consumers = 1};

  explicit BoostSpsc(const QueueOptions& o) : capacity_(o.capacity), q_(o.capacity) {}

  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) { return q_.push(v); }
  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) { return q_.pop(out); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // Reads both indices atomically: stale, but safe from any thread.
  [[nodiscard]] std::size_t approx_size() const noexcept { return q_.read_available(); }

 private:
  std::size_t capacity_;
  boost::lockfree::spsc_queue<T> q_;
};

}  // namespace qb
