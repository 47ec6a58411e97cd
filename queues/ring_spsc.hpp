// ring_spsc: qbench's own bounded single-producer single-consumer ring.
//
// Source: L. Lamport's concurrent ring buffer ("Proving the Correctness of Multiprocess
//   Programs", 1977; "Specifying Concurrent Program Modules", 1983) with C++11 acquire/release
//   indices, plus the index caching of FastForward-style queues (each side keeps a private copy
//   of the other side's index and reloads it only when the ring looks full / empty; the same
//   idea as Folly's ProducerConsumerQueue and E. Rigtorp's SPSCQueue). Written for qbench.
// Layout: the producer's index and its cached copy of the consumer's index share one cache
//   line; the consumer's index and its cached copy of the producer's share another; the buffer
//   pointer and sizes sit on a third, read-only after construction. Positions run free (64-bit,
//   never wrap in practice); a slot is position & mask over a power-of-two buffer.
// Progress: wait-free (every operation is a bounded number of steps), for exactly ONE producer
//   thread and ONE consumer thread: traits say max 1 x 1 and the registry refuses other shapes.
// Ordering: FIFO. Bound: exact: try_push fails exactly when capacity() items are held (the
//   buffer is rounded up to a power of two, the bound is not).
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>

#include "concept.hpp"
#include "detail/spin.hpp"

namespace qb {

inline constexpr std::string_view ring_spsc_name = "ring_spsc";
inline constexpr std::string_view ring_spsc_summary =
    "qbench's Lamport ring with cached indices on separate cache lines; one producer and one "
    "consumer only";

template <class T>
class RingSpsc {
  static_assert(std::is_trivially_copyable_v<T>, "queue items are trivially copyable");

 public:
  using value_type = T;
  static constexpr std::string_view name = ring_spsc_name;
  static constexpr std::string_view summary = ring_spsc_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::wait_free,
                                      .max_producers = 1,
                                      .max_consumers = 1};

  explicit RingSpsc(const QueueOptions& o)
      : capacity_(o.capacity == 0 ? 1 : o.capacity),
        mask_(std::bit_ceil(capacity_) - 1),
        slots_(std::make_unique<T[]>(mask_ + 1)) {}
  RingSpsc(const RingSpsc&) = delete;
  RingSpsc& operator=(const RingSpsc&) = delete;

  // Producer thread only.
  [[nodiscard]] bool try_push(const T& v) noexcept {
    // relaxed: only this thread writes tail_.
    const std::uint64_t t = producer_.tail.load(std::memory_order_relaxed);
    if (t - producer_.cached_head == capacity_) {
      // acquire: pairs with the consumer's release of head_; its read of the slot we are about
      // to overwrite happened before.
      producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
      if (t - producer_.cached_head == capacity_) return false;
    }
    slots_[t & mask_] = v;
    // release: the slot's contents are visible to the consumer that acquires this position.
    producer_.tail.store(t + 1, std::memory_order_release);
    return true;
  }

  // Consumer thread only.
  [[nodiscard]] bool try_pop(T& out) noexcept {
    // relaxed: only this thread writes head_.
    const std::uint64_t h = consumer_.head.load(std::memory_order_relaxed);
    if (h == consumer_.cached_tail) {
      // acquire: pairs with the producer's release of tail_; the slot's contents are visible.
      consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
      if (h == consumer_.cached_tail) return false;
    }
    out = slots_[h & mask_];
    // release: our read of the slot is done before the producer may overwrite it.
    consumer_.head.store(h + 1, std::memory_order_release);
    return true;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // Any thread; stale on return. acquire on both: a consistent-enough snapshot (head first, so
  // that tail >= head).
  [[nodiscard]] std::size_t approx_size() const noexcept {
    const std::uint64_t h = consumer_.head.load(std::memory_order_acquire);
    const std::uint64_t t = producer_.tail.load(std::memory_order_acquire);
    return static_cast<std::size_t>(t >= h ? t - h : 0);
  }

 private:
  struct alignas(detail::cache_line) ProducerSide {
    std::atomic<std::uint64_t> tail{0};
    std::uint64_t cached_head = 0;  // producer-private copy of consumer_.head
  };
  struct alignas(detail::cache_line) ConsumerSide {
    std::atomic<std::uint64_t> head{0};
    std::uint64_t cached_tail = 0;  // consumer-private copy of producer_.tail
  };

  // Read-only after construction (its own line: neither side's writes invalidate it).
  alignas(detail::cache_line) const std::size_t capacity_;
  const std::size_t mask_;
  const std::unique_ptr<T[]> slots_;
  ProducerSide producer_;
  ConsumerSide consumer_;
};

}  // namespace qb
