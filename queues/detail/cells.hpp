// The cells of a ring, laid out so that no cell straddles two cache lines: each cell aligned to
// the next power of two of its size (up to a line), in an array that starts on a line. A cell
// across two lines is two lines to move between the producer's and the consumer's caches for
// one item; and where the array starts is up to the allocator (glibc aligns to 16 bytes), so
// without this the same queue hands items over at two speeds, allocation to allocation: 32-byte
// cells (24-byte items) of a Vyukov ring, 1x1 pinned on the 2-core VM, moved 260-275 M items/s
// at offsets 0 and 32 of a line and 100-120 at 16 and 48 (medians of 8 interleaved runs, twice);
// ring_mpmc's harness flood read 100-129 and then 34-37 M/s within one floor run at 02d96c1.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "spin.hpp"

namespace qb::detail {

// The alignment for a cell of `bytes`: the next power of two, up to a cache line.
constexpr std::size_t cell_alignment(std::size_t bytes) noexcept {
  return std::min(cache_line, std::bit_ceil(bytes));
}

// Whether cells of this type, from a line-aligned start, each sit within one line or start one.
template <class Cell>
inline constexpr bool within_lines = sizeof(Cell) % cache_line == 0 || cache_line % sizeof(Cell) ==
                                                                           0;

// A ring's cell: a sequence number (0 until the ring sets it) and the item. Aligned so that,
// from a line-aligned start, none straddles a line.
template <class T>
struct alignas(cell_alignment(sizeof(std::uint64_t) + sizeof(T))) SequencedCell {
  std::atomic<std::uint64_t> seq{0};
  T data{};
};

template <class Cell>
struct FreeLineAligned {
  void operator()(Cell* p) const noexcept { ::operator delete[](p, std::align_val_t{cache_line}); }
};
template <class Cell>
using LineAlignedCells = std::unique_ptr<Cell[], FreeLineAligned<Cell>>;

// n value-initialised cells from a cache line on. Freed without destruction: Cell must be
// trivially destructible.
template <class Cell>
LineAlignedCells<Cell> make_line_aligned_cells(std::size_t n) {
  static_assert(std::is_trivially_destructible_v<Cell>, "cells are freed without destruction");
  static_assert(within_lines<Cell>, "a cell would straddle two lines");
  auto* p = static_cast<Cell*>(::operator new[](n * sizeof(Cell), std::align_val_t{cache_line}));
  LineAlignedCells<Cell> cells(p);  // frees the memory if a constructor throws below
  std::uninitialized_value_construct_n(p, n);
  return cells;
}

}  // namespace qb::detail
