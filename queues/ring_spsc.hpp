// ring_spsc: qbench's own bounded single-producer single-consumer ring.
//
// Source: the per-cell hand-off of FastForward (J. Giacomoni, T. Moseley, M. Vachharajani,
//   "FastForward for Efficient Pipeline Parallelism", PPoPP 2008), in the form of D. Vyukov's
//   cell sequence number ("Bounded MPMC queue", 1024cores.net) without his CAS (one producer
//   and one consumer need none), plus the producer's cached copy of the consumer's index from
//   Lamport rings with index caching (MCRingBuffer, P. Lee, T. Bu, G. Chandranmenon, IPDPS
//   2009; Folly's ProducerConsumerQueue, E. Rigtorp's SPSCQueue). Written for qbench.
//   - A cell holds an item and a sequence: position + 1 once the item of that position is in
//     it, 0 before the first item and once the consumer has taken it. The consumer sees an item
//     when the sequence of its cell is head + 1: the flag arrives on the same cache line as the
//     data, and the consumer never reads the producer's index (the previous design, a Lamport ring,
//     did: when nearly empty every push paid a miss on its tail line and every pop two serial
//     misses, tail then slot).
//   - The producer counts free cells from a private copy of the consumer's head. When that
//     copy says full, it looks at the cell of position tail - capacity (the oldest item it may
//     count as held): 0 there means that item is gone and one cell is free, exactly. At most
//     once per capacity / 4 positions does it also reload head itself, for a larger batch, so
//     a producer waiting on a full ring polls the one cell the consumer is freeing, not the
//     consumer's index line (which the consumer writes on every pop).
//   - Once per cache line of cells, when the copy of head shows the next line free, the
//     producer prefetches that line for writing (PREFETCHW; where the CPU lacks it, nothing):
//     the line then belongs to the producer before its stores, instead of being fetched back
//     from the consumer's cache by the store itself.
// Layout: cells of the sequence and the item, aligned to the next power of two of their size
//   up to a cache line (24-byte items: 32-byte cells, two per line) so that no cell straddles
//   a line; packed, not padded to a line each (measured: padding cost flood throughput and
//   gained nothing in ping-pong). The cells start on a cache line; there are the next power of
//   two >= capacity of them (a slot is position & mask). Positions run free (64-bit, never
//   wrap in practice). The producer's tail and its private state share one cache line, the
//   consumer's head has another; each side reads the other's only on the slow path above (and
//   approx_size reads both). Capacity, mask and the cell pointer sit on a third line,
//   read-only after construction.
// Progress: wait-free (every operation is a bounded number of steps), for exactly ONE producer
//   thread and ONE consumer thread: traits say max 1 x 1 and the registry refuses other shapes.
// Ordering: FIFO. Bound: exact: try_push fails exactly when capacity() items are held (the
//   producer admits position t only once position t - capacity is known taken; the buffer is
//   rounded up to a power of two, the bound is not).
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "concept.hpp"
#include "detail/cells.hpp"
#include "detail/spin.hpp"

namespace qb {

inline constexpr std::string_view ring_spsc_name = "ring_spsc";
inline constexpr std::string_view ring_spsc_summary =
    "qbench's SPSC ring: a sequence number per cell (FastForward, Vyukov) instead of shared "
    "indices, the producer's cached head, prefetch-for-write; one producer and one consumer only";

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
        refresh_every_(std::max<std::size_t>(capacity_ / 4, 1)),
        prefetch_below_(cpu_has_prefetchw() ? capacity_ : 0),
        cells_(detail::make_line_aligned_cells<Cell>(mask_ + 1)) {}  // every cell taken
  RingSpsc(const RingSpsc&) = delete;
  RingSpsc& operator=(const RingSpsc&) = delete;

  // Producer thread only.
  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) noexcept {
    // relaxed: only this thread writes tail.
    const std::uint64_t t = producer_.tail.load(std::memory_order_relaxed);
    if (t - producer_.cached_head == capacity_ && !make_room(t)) return false;
    // Once per line of cells: the next line, if our copy of head shows it free (never, where
    // the CPU has no PREFETCHW: prefetch_below_ is 0 then).
    if (t % per_line == 0 && t + per_line - producer_.cached_head < prefetch_below_) {
      prefetch_for_write(&cells_[(t + per_line) & mask_]);
    }
    // relaxed: read only by approx_size, never to reach data; stored before the cell's release
    // below so that a thread that acquires head >= t + 1 also sees tail >= t + 1.
    producer_.tail.store(t + 1, std::memory_order_relaxed);
    Cell& c = cells_[t & mask_];
    c.data = v;
    // release: the item is visible to the consumer that acquires sequence t + 1 (Vyukov's
    // publish through the cell's sequence, FastForward's write of the slot).
    c.seq.store(t + 1, std::memory_order_release);
    return true;
  }

  // Consumer thread only.
  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) noexcept {
    // relaxed: only this thread writes head.
    const std::uint64_t h = consumer_.head.load(std::memory_order_relaxed);
    Cell& c = cells_[h & mask_];
    // acquire: pairs with the producer's release of sequence h + 1 (Vyukov): the item is
    // visible. Any other value (0, or a position of another lap) means h is not filled yet.
    if (c.seq.load(std::memory_order_acquire) != h + 1) return false;
    out = c.data;
    // release: our read of the item is done before the producer, acquiring this 0 in
    // make_room(), overwrites the cell (FastForward's consumer emptying the slot).
    c.seq.store(taken, std::memory_order_release);
    // release: the same for every cell below h + 1, for a producer that acquires head (the
    // Lamport / MCRingBuffer index publication).
    consumer_.head.store(h + 1, std::memory_order_release);
    return true;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // Any thread; stale on return. acquire on head: pairs with the consumer's release, which
  // carries the producer's earlier tail store (see try_push), so tail >= head; relaxed on tail:
  // a count, no data is read through it. Clamped: tail may have moved on since head was read.
  [[nodiscard]] std::size_t approx_size() const noexcept {
    const std::uint64_t h = consumer_.head.load(std::memory_order_acquire);
    const std::uint64_t t = producer_.tail.load(std::memory_order_relaxed);
    return static_cast<std::size_t>(t > h ? std::min<std::uint64_t>(t - h, capacity_) : 0);
  }

 private:
  static constexpr std::uint64_t taken = 0;  // a cell's sequence once its item is popped

  // No cell straddles a line (detail/cells.hpp); the cells start on a line, so each line holds
  // per_line whole cells of ours.
  // seq: position + 1 of the item held, or taken (0, where every cell starts).
  using Cell = detail::SequencedCell<T>;
  static_assert(taken == 0, "cells start taken");
  static constexpr std::size_t per_line =
      sizeof(Cell) >= detail::cache_line ? 1 : detail::cache_line / sizeof(Cell);

  // Producer thread only: the copy of head says full at position t. Inlined: in a full ring it
  // runs once per push (GCC had left it out of line in the harness's loops at 64 and 256 bytes,
  // but not in the bare references').
  QB_ALWAYS_INLINE bool make_room(std::uint64_t t) noexcept {
    const Cell& oldest = cells_[(t - capacity_) & mask_];
    // acquire: pairs with the consumer's release of taken (FastForward's empty slot); its
    // reads of this and every earlier position happened before. Position t - capacity was
    // filled by us (sequence t - capacity + 1) and no later position has been written to the
    // cell yet, so taken here means exactly that this item is gone.
    if (oldest.seq.load(std::memory_order_acquire) != taken) return false;
    std::uint64_t h = t - capacity_ + 1;
    if (t >= producer_.next_refresh) {
      producer_.next_refresh = t + refresh_every_;
      // acquire: pairs with the consumer's release of head (MCRingBuffer's lazy index read);
      // it may lag the cell we just read, hence the max.
      h = std::max(h, consumer_.head.load(std::memory_order_acquire));
    }
    producer_.cached_head = h;
    return true;
  }

  static bool cpu_has_prefetchw() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    // CPUID 0x80000001, ECX bit 8 (PRFCHW / 3DNowPrefetch): PREFETCHW is implemented.
    return __get_cpuid(0x80000001u, &a, &b, &c, &d) != 0 && (c & (1u << 8)) != 0;
#else
    return true;
#endif
  }

  // A hint only: no value is read, nothing is ordered.
  static void prefetch_for_write(const Cell* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetchw %0" ::"m"(*p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
  }

  struct alignas(detail::cache_line) ProducerSide {
    std::atomic<std::uint64_t> tail{0};
    std::uint64_t cached_head = 0;   // producer-private: every position below it is taken
    std::uint64_t next_refresh = 0;  // producer-private: when make_room() may reload head
  };
  struct alignas(detail::cache_line) ConsumerSide {
    std::atomic<std::uint64_t> head{0};
  };

  // Read-only after construction (its own line: neither side's writes invalidate it).
  alignas(detail::cache_line) const std::size_t capacity_;
  const std::size_t mask_;
  const std::uint64_t refresh_every_;  // capacity / 4 (at least 1): see make_room()
  // capacity_ where PREFETCHW exists, else 0: folded into try_push's room test, so the
  // check costs no branch of its own (a separate flag test measured 8% off the flood).
  const std::uint64_t prefetch_below_;
  const detail::LineAlignedCells<Cell> cells_;
  ProducerSide producer_;
  ConsumerSide consumer_;
};

}  // namespace qb
