// Shared pieces of the suites outside the conformance kit (sharded_test, mutex_cv_one_stall_test):
// their item type with an explicit key, and the kit's bounded joins, scaling and options.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <string_view>
#include <thread>

#include "qbench/testing/support.hpp"
#include "queues/all_queues.hpp"

namespace qb::test {

struct Item {
  std::uint64_t producer;
  std::uint64_t seq;
  std::uint64_t payload;
};
static_assert(std::is_trivially_copyable_v<Item>);

inline constexpr Item make_item(std::uint64_t producer, std::uint64_t seq) {
  return Item{producer, seq, producer * 1'000'003u + seq * 7919u + 1};
}

// Routing key for qb::Sharded (found by ADL, see queues/sharded.hpp): the sequence number, so
// that one producer's items spread evenly over every mailbox (mailbox = seq % N).
inline constexpr std::uint64_t shard_key(const Item& it) noexcept {
  return it.seq;
}

// The kit's pieces (qbench/testing/support.hpp), for the suites that are not part of it.
using conformance::BoundedThread;
using conformance::kSanitized;
using conformance::options;
using conformance::QueueNames;
using conformance::scaled;

}  // namespace qb::test
