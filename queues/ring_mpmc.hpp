// ring_mpmc: qbench's own bounded multi-producer multi-consumer ring with a sequence number per
// cell.
//
// Source: D. Vyukov, "Bounded MPMC queue" (1024cores.net, 2010-2011), the design behind many
//   ring queues since (Rust's crossbeam ArrayQueue, Rigtorp's MPMCQueue). Written for qbench.
//   Each cell carries a sequence number: a producer may fill cell (pos % size) when its sequence
//   equals pos, a consumer may empty it when it equals pos + 1; the emptying consumer sets it to
//   pos + size, the position of the next lap. Producers claim positions by a CAS on enqueue_pos,
//   consumers on dequeue_pos; the two counters live on separate cache lines.
// Size: the buffer holds exactly capacity() cells (any size >= 1: a power of two takes a mask,
//   other sizes a division, chosen once). Cells are not padded to a line (two 24-byte items
//   share a cache line), as in the original, but none straddles two (detail/cells.hpp): each is
//   aligned to the next power of two of its size, from a line-aligned start.
// Progress: no locks, but not lock-free in the strict sense (Vyukov says so): a producer
//   preempted between its claim and its publish holds up the consumer of that one cell (that
//   consumer's try_pop reports empty meanwhile); every other cell proceeds. Reported as blocking.
// Ordering: FIFO by claimed position: items leave in the order their producers' claims
//   linearized. Bound: exact: try_push fails exactly when capacity() items are held (or a
//   consumer of the cell it needs has claimed but not yet released it).
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>

#include "concept.hpp"
#include "detail/cells.hpp"
#include "detail/spin.hpp"

namespace qb {

inline constexpr std::string_view ring_mpmc_name = "ring_mpmc";
inline constexpr std::string_view ring_mpmc_summary =
    "qbench's bounded ring with a sequence number per cell (Vyukov's MPMC design)";

template <class T>
class RingMpmc {
  static_assert(std::is_trivially_copyable_v<T>, "queue items are trivially copyable");

 public:
  using value_type = T;
  static constexpr std::string_view name = ring_mpmc_name;
  static constexpr std::string_view summary = ring_mpmc_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::blocking};

  explicit RingMpmc(const QueueOptions& o)
      : size_(o.capacity == 0 ? 1 : o.capacity),
        mask_(std::has_single_bit(size_) ? size_ - 1 : 0),
        cells_(detail::make_line_aligned_cells<Cell>(size_)) {
    for (std::size_t i = 0; i < size_; ++i)
      cells_[i].seq.store(i, std::memory_order_relaxed);  // published by the thread start
  }
  RingMpmc(const RingMpmc&) = delete;
  RingMpmc& operator=(const RingMpmc&) = delete;

  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) noexcept {
    // relaxed: the position is only a hint; the cell's sequence (acquire below) decides.
    std::uint64_t pos = enqueue_pos_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[index(pos)];
      // acquire: pairs with the release of the consumer that emptied this cell last lap; its
      // read of the data happened before our write.
      const std::uint64_t seq = cell->seq.load(std::memory_order_acquire);
      const auto dif = static_cast<std::int64_t>(seq - pos);
      if (dif == 0) {
        // relaxed: the claim orders nothing by itself; the cell's sequence carries the data.
        if (enqueue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;  // the cell still holds last lap's item: full
      } else {
        pos = enqueue_pos_.load(std::memory_order_relaxed);  // another producer took pos
      }
    }
    cell->data = v;
    // release: the data is visible to the consumer that acquires sequence pos + 1.
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) noexcept {
    // relaxed: a hint, as in try_push.
    std::uint64_t pos = dequeue_pos_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[index(pos)];
      // acquire: pairs with the producer's release of pos + 1: the data is visible.
      const std::uint64_t seq = cell->seq.load(std::memory_order_acquire);
      const auto dif = static_cast<std::int64_t>(seq - (pos + 1));
      if (dif == 0) {
        // relaxed: as in try_push.
        if (dequeue_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (dif < 0) {
        return false;  // not yet filled: empty (or its producer has not published yet)
      } else {
        pos = dequeue_pos_.load(std::memory_order_relaxed);  // another consumer took pos
      }
    }
    out = cell->data;
    // release: our read of the data is done before next lap's producer writes the cell.
    cell->seq.store(pos + size_, std::memory_order_release);
    return true;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return size_; }
  // Any thread; stale on return (relaxed: a count, no data is read through it).
  [[nodiscard]] std::size_t approx_size() const noexcept {
    const std::uint64_t d = dequeue_pos_.load(std::memory_order_relaxed);
    const std::uint64_t e = enqueue_pos_.load(std::memory_order_relaxed);
    return static_cast<std::size_t>(e > d ? std::min<std::uint64_t>(e - d, size_) : 0);
  }

 private:
  using Cell = detail::SequencedCell<T>;

  [[nodiscard]] std::size_t index(std::uint64_t pos) const noexcept {
    return mask_ ? static_cast<std::size_t>(pos & mask_) : static_cast<std::size_t>(pos % size_);
  }

  // Read-only after construction.
  alignas(detail::cache_line) const std::size_t size_;
  const std::size_t mask_;  // size_ - 1 when size_ is a power of two, else 0
  const detail::LineAlignedCells<Cell> cells_;
  alignas(detail::cache_line) std::atomic<std::uint64_t> enqueue_pos_{0};
  alignas(detail::cache_line) std::atomic<std::uint64_t> dequeue_pos_{0};
};

}  // namespace qb
