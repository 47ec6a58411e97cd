// queues/detail/cells.hpp: the rings' cells start on a cache line and none straddles two,
// whatever the allocator would have given and whatever the item's size.
#include "queues/detail/cells.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/item.hpp"

namespace qb::detail {
namespace {

template <class T>
void expect_line_aligned_cells() {
  using Cell = SequencedCell<T>;
  std::vector<LineAlignedCells<Cell>> kept;  // several at once: the allocator's offsets vary
  for (const std::size_t n : {1, 3, 64, 1000, 65536}) {
    kept.push_back(make_line_aligned_cells<Cell>(n));
    const auto start = reinterpret_cast<std::uintptr_t>(kept.back().get());
    EXPECT_EQ(start % cache_line, 0u) << sizeof(T) << " bytes, " << n << " cells";
    for (std::size_t i = 0; i < n; ++i) {
      const std::uintptr_t first = start + i * sizeof(Cell);
      const std::uintptr_t last = first + sizeof(Cell) - 1;
      if (sizeof(Cell) <= cache_line)
        ASSERT_EQ(first / cache_line, last / cache_line) << sizeof(T) << " bytes, cell " << i;
      else
        ASSERT_EQ(first % cache_line, 0u) << sizeof(T) << " bytes, cell " << i;
    }
    EXPECT_EQ(kept.back()[n - 1].seq.load(), 0u);  // value-initialised
  }
}

TEST(RingCells, StartOnALineAndNoneStraddlesTwo) {
  expect_line_aligned_cells<Payload<8>>();
  expect_line_aligned_cells<Payload<16>>();
  expect_line_aligned_cells<Item>();
  expect_line_aligned_cells<Payload<64>>();
  expect_line_aligned_cells<Payload<256>>();
}

TEST(RingCells, AlignmentIsTheNextPowerOfTwoUpToALine) {
  EXPECT_EQ(cell_alignment(16), 16u);
  EXPECT_EQ(cell_alignment(24), 32u);
  EXPECT_EQ(cell_alignment(32), 32u);
  EXPECT_EQ(cell_alignment(72), cache_line);
  EXPECT_EQ(cell_alignment(264), cache_line);
}

}  // namespace
}  // namespace qb::detail
