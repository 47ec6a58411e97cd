// atomic_queue: Maxim Egorushkin's atomic_queue (Debian's libatomic-queue-dev, snapshot
// 2022-05-18), AtomicQueueB2: a ring of non-atomic elements with a one-byte state per cell,
// capacity chosen at run time. atomic_queue is the MPMC mode, atomic_queue_spsc its SPSC=true
// mode (one producer thread, one consumer thread: the registry refuses other shapes).
//
// Source: https://github.com/max0x7ba/atomic_queue. A producer claims a position by a CAS on
//   head_ (SPSC: a plain store), then waits for the cell's state to be EMPTY, CASes it to
//   STORING, writes the element and releases STORED; a consumer claims by a CAS on tail_, waits
//   for STORED, CASes it to LOADING, reads, releases EMPTY. Template parameters: the defaults,
//   MAXIMIZE_THROUGHPUT = true (spin on plain loads before retrying a CAS, so a waiting thread
//   does not keep taking the line), TOTAL_ORDER = false (it only strengthens the blocking
//   push()/pop(), which qbench does not call). Index shuffling spreads neighbouring positions
//   over different cache lines.
// Size: the library rounds the ring up to a power of two of at least 4096 cells (64 one-byte
//   states per cache line, and the shuffle swaps 6 index bits with the next 6). Left alone, a
//   queue asked for 8 would hold 4096 items. The adapter keeps capacity() honest: when the ring
//   is larger than the capacity asked for, try_push refuses when was_size() (head_ - tail_) has
//   reached capacity, before the library's own claim (one more load of head_ and tail_ per push,
//   lines the push reads anyway). When the capacity is the ring's own size (a power of two of at
//   least 4096, such as 65536) the library's check is exact and the adapter adds nothing.
// Bound: atomic_queue_spsc: exact (the only producer reads its own head_ and a possibly stale,
//   so smaller, tail_: the check can only refuse early, never admit past capacity).
//   atomic_queue: approximate: check and claim are two steps, so producers that passed the
//   check together all get in: at most capacity + producers - 1 items are held (an item
//   counts as gone once a consumer has claimed its position).
// Progress: no locks, but blocking, and more so than Vyukov's ring (ring_mpmc): the "try"
//   operations wait inside the library. A try_pop that claimed a position spins until a
//   producer stores into that cell; a try_push spins until the cell is EMPTY again. A thread
//   preempted between claim and release stalls the peers of its cell inside calls that were
//   expected to return at once.
// Ordering: atomic_queue_spsc: FIFO. atomic_queue: none promised. A cell's state carries no lap
//   number: when the producer of position p stalls between claim and store while the others
//   run a whole ring (4096 cells or more) ahead, the producer of p + ring size can fill the cell
//   first, and its item leaves in p's place (a stalled consumer swaps the same way). Nothing is
//   lost or duplicated, but not even one producer's items keep their order; on 2 cores with
//   spinning threads the stress test sees it within a million items. Without such a stall,
//   items leave in the order of their claimed positions.
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <atomic_queue/atomic_queue.h>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "concept.hpp"

namespace qb {

inline constexpr std::string_view atomic_queue_name = "atomic_queue";
inline constexpr std::string_view atomic_queue_summary =
    "atomic_queue AtomicQueueB2 (Egorushkin; ring with per-cell state, spins on a claimed cell)";
inline constexpr std::string_view atomic_queue_spsc_name = "atomic_queue_spsc";
inline constexpr std::string_view atomic_queue_spsc_summary =
    "atomic_queue AtomicQueueB2 in SPSC mode; one producer and one consumer only";

// The shared adapter; AtomicQueue and AtomicQueueSpsc below name the two modes.
template <class T, bool Spsc>
class BasicAtomicQueue {
  static_assert(std::is_trivially_copyable_v<T>, "queue items are trivially copyable");
  using Queue = atomic_queue::AtomicQueueB2<T, std::allocator<T>, /*MAXIMIZE_THROUGHPUT=*/true,
                                            /*TOTAL_ORDER=*/false, /*SPSC=*/Spsc>;

 public:
  using value_type = T;

  explicit BasicAtomicQueue(const QueueOptions& o)
      : capacity_(checked_capacity(o.capacity)),
        q_(static_cast<unsigned>(capacity_)),
        check_size_(q_.capacity() != capacity_) {}
  BasicAtomicQueue(const BasicAtomicQueue&) = delete;
  BasicAtomicQueue& operator=(const BasicAtomicQueue&) = delete;

  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) noexcept {
    // The library's ring is larger than capacity_ (see the header comment): bound it here.
    if (check_size_ && q_.was_size() >= capacity_) return false;
    return q_.try_push(v);
  }
  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) noexcept { return q_.try_pop(out); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // head_ - tail_ (two relaxed loads, clamped at 0): stale on return, safe from any thread.
  [[nodiscard]] std::size_t approx_size() const noexcept { return q_.was_size(); }

 private:
  // The library indexes with unsigned and compares sizes as int: keep the ring below 2^31.
  static std::size_t checked_capacity(std::size_t c) {
    if (c == 0) return 1;
    if (c > kMaxCapacity)
      throw std::invalid_argument("atomic_queue: capacity above 2^30 (no unbounded mode)");
    return c;
  }
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

  std::size_t capacity_;
  Queue q_;
  bool check_size_;  // the ring holds more than capacity_
};

template <class T>
class AtomicQueue : public BasicAtomicQueue<T, false> {
 public:
  using BasicAtomicQueue<T, false>::BasicAtomicQueue;
  static constexpr std::string_view name = atomic_queue_name;
  static constexpr std::string_view summary = atomic_queue_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::none,
                                      .bound = Bound::approximate,
                                      .progress = Progress::blocking};
};

template <class T>
class AtomicQueueSpsc : public BasicAtomicQueue<T, true> {
 public:
  using BasicAtomicQueue<T, true>::BasicAtomicQueue;
  static constexpr std::string_view name = atomic_queue_spsc_name;
  static constexpr std::string_view summary = atomic_queue_spsc_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::blocking,
                                      .max_producers = 1,
                                      .max_consumers = 1};
};

namespace detail {
struct AtomicQueueProbe {
  std::uint64_t a, b, c;
};
}  // namespace detail
static_assert(TryQueue<AtomicQueue<detail::AtomicQueueProbe>>);
static_assert(TryQueue<AtomicQueueSpsc<detail::AtomicQueueProbe>>);

}  // namespace qb
