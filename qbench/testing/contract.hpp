// The queue contract (docs/DESIGN.md section 2) as GoogleTest type-parameterized tests: part of
// the conformance kit (qbench/testing.hpp), instantiated for every built-in queue
// (tests/queue_contract_test.cpp) and for a user's queues (QBENCH_CONFORMANCE). A failure names
// the property (the test's name) and the queue (the type's registry name).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "qbench/testing/support.hpp"

namespace qb::conformance {

using namespace std::chrono_literals;

template <class Q>
class QueueContract : public ::testing::Test {};
TYPED_TEST_SUITE_P(QueueContract);

namespace contract_detail {
// Pushes through `p` until try_push fails; returns how many went in. Bounded by `limit`.
template <class P>
std::size_t fill(P& p, std::size_t limit, std::uint64_t producer = 0) {
  std::size_t n = 0;
  while (n < limit && p.try_push(make_item(producer, n)))
    ++n;
  return n;
}

// How many consumer handles together see every item: one for most queues; for Order::per_key
// (qb::Sharded) every consumer handle, since each sees only its own shard.
template <class Q>
std::size_t consumer_views(const QueueOptions& o) {
  return Q::traits.order == Order::per_key ? std::max<std::size_t>(1, o.consumers) : 1;
}

// The most an approximately bounded queue may hold beyond its capacity: moodycamel hands out
// 32-slot blocks, and reserves a little more than capacity per producer.
template <class Q>
std::size_t approximate_ceiling(const QueueOptions& o) {
  return 4 * o.capacity + 64 * (o.producers + 4);
}

}  // namespace contract_detail
using namespace contract_detail;

TYPED_TEST_P(QueueContract, StaticFactsAreConsistent) {
  using Q = TypeParam;
  EXPECT_FALSE(Q::name.empty());
  EXPECT_FALSE(Q::traits.summary.empty());
  EXPECT_EQ(Q::name.find(' '), std::string_view::npos) << "registry names are data";
  Q q(options<Q>(16));
  EXPECT_EQ(q.capacity(), 16u);
  EXPECT_FALSE(q.closed());
}

TYPED_TEST_P(QueueContract, EmptyTryPopFails) {
  using Q = TypeParam;
  Q q(options<Q>(16));
  auto c = consumer_handle(q, 0);
  Item out{};
  EXPECT_FALSE(c.try_pop(out));
  EXPECT_FALSE(q.try_pop(out));
  if (q.approx_size() != size_unknown) {
    EXPECT_EQ(q.approx_size(), 0u);
  }
}

TYPED_TEST_P(QueueContract, FullTryPushFailsWhereBounded) {
  using Q = TypeParam;
  const auto o = options<Q>(8);
  Q q(o);
  auto p = producer_handle(q, 0);
  const std::size_t n = fill(p, 100'000);
  if constexpr (Q::traits.bound == Bound::exact) {
    EXPECT_EQ(n, o.capacity);
  } else {
    EXPECT_GE(n, o.capacity) << "an approximate bound still holds its capacity";
    EXPECT_LE(n, approximate_ceiling<Q>(o)) << "approximate, not absent";
  }
  if (q.approx_size() != size_unknown) {
    EXPECT_EQ(q.approx_size(), n);
  }
  // A pop makes room again (an exact bound makes room for exactly one more).
  auto c = consumer_handle(q, 0);
  std::size_t popped = 0;
  Item out{};
  while (popped < n && !p.try_push(make_item(0, n + popped))) {
    ASSERT_TRUE(c.try_pop(out));
    ++popped;
  }
  EXPECT_LT(popped, n) << "popping never made room";
  if constexpr (Q::traits.bound == Bound::exact) {
    EXPECT_EQ(popped, 1u);
  }
}

TYPED_TEST_P(QueueContract, UnboundedWhereAllowed) {
  using Q = TypeParam;
  if constexpr (!Q::traits.allows_unbounded) {
    GTEST_SKIP() << "needs a capacity";
  } else {
    const auto o = options<Q>(unbounded);
    Q q(o);
    EXPECT_EQ(q.capacity(), unbounded);
    auto p = producer_handle(q, 0);
    constexpr std::size_t n = 20'000;
    EXPECT_EQ(fill(p, n), n) << "an unbounded queue refused a push";
    Item out{};
    std::size_t popped = 0;
    for (std::size_t v = 0; v < consumer_views<Q>(o); ++v) {
      auto c = consumer_handle(q, v);
      while (c.try_pop(out))
        ++popped;
    }
    EXPECT_EQ(popped, n);
  }
}

TYPED_TEST_P(QueueContract, OrderAsPromised) {
  using Q = TypeParam;
  const auto o = options<Q>(64);
  Q q(o);
  auto p = producer_handle(q, 0);
  const std::size_t n = fill(p, 64);
  ASSERT_GE(n, 64u);
  std::vector<std::uint64_t> seen;
  Item out{};
  if constexpr (Q::traits.order == Order::per_key) {
    // Each consumer handle sees only its own shard (a strict part of the items), and in it
    // this producer's items in push order. That implies per-key order (one key, one shard), and
    // it is what the stress test and the harness's per-producer check rely on. Keys with
    // several items each: sharded_test.cpp.
    const std::size_t views = consumer_views<Q>(o);
    ASSERT_GE(views, 2u) << "options() should give a per_key queue several shards";
    for (std::size_t v = 0; v < views; ++v) {
      auto c = consumer_handle(q, v);
      std::vector<std::uint64_t> mine;
      while (c.try_pop(out)) {
        EXPECT_TRUE(intact(out)) << "a torn or mixed-up item";
        if (!mine.empty()) {
          EXPECT_GT(seq_of(out), mine.back()) << "consumer " << v << ": one producer out of order";
        }
        mine.push_back(seq_of(out));
      }
      EXPECT_GT(mine.size(), 0u) << "keys 0..63 left consumer " << v << "'s shard empty";
      EXPECT_LT(mine.size(), n) << "consumer " << v << " saw more than its own shard";
      seen.insert(seen.end(), mine.begin(), mine.end());
    }
    ASSERT_EQ(seen.size(), n);
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(seen[i], i);
    return;
  }
  auto c = consumer_handle(q, 0);
  while (c.try_pop(out)) {
    EXPECT_TRUE(intact(out)) << "a torn or mixed-up item";
    seen.push_back(seq_of(out));
  }
  ASSERT_EQ(seen.size(), n);
  if constexpr (Q::traits.order == Order::fifo || Q::traits.order == Order::per_producer_fifo) {
    // One producer: FIFO and per-producer FIFO promise the same thing.
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(seen[i], i);
  } else {
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(seen[i], i);
  }
}

TYPED_TEST_P(QueueContract, TimedPopTimesOut) {
  using Q = TypeParam;
  Q q(options<Q>(16));
  auto c = consumer_handle(q, 0);
  Item out{};
  EXPECT_EQ(c.pop(out, 0ns), QueueStatus::timeout);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.pop(out, 30ms), QueueStatus::timeout);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 29ms);
  EXPECT_LT(waited, 5s);
}

TYPED_TEST_P(QueueContract, TimedPushTimesOutWhenFull) {
  using Q = TypeParam;
  Q q(options<Q>(8));
  auto p = producer_handle(q, 0);
  fill(p, 100'000);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(p.push(make_item(0, 999'999), 30ms), QueueStatus::timeout);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 29ms);
  EXPECT_LT(waited, 5s);
}

TYPED_TEST_P(QueueContract, BlockedPopResumesOnPush) {
  using Q = TypeParam;
  Q q(options<Q>(16));
  std::atomic<int> status{-1};
  Item got{};
  BoundedThread consumer([&] {
    auto c = consumer_handle(q, 0);
    status = static_cast<int>(c.pop(got, forever));
  });
  std::this_thread::sleep_for(20ms);
  auto p = producer_handle(q, 0);
  // per_key (key = seq mod 2^16): 42 % 2 == 0 is consumer 0's shard.
  ASSERT_EQ(p.push(make_item(0, 42), forever), QueueStatus::ok);
  consumer.join(hang_limit, "pop blocked on an empty queue after a push");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::ok));
  EXPECT_EQ(seq_of(got), 42u);
}

TYPED_TEST_P(QueueContract, BlockedPushResumesOnPop) {
  using Q = TypeParam;
  Q q(options<Q>(8));
  std::atomic<bool> full{false};
  std::atomic<int> status{-1};
  std::size_t filled = 0;
  BoundedThread producer([&] {
    auto p = producer_handle(q, 0);
    filled = fill(p, 100'000);
    full = true;
    // per_key: key 1'000'000 mod 2^16 = 16960 is in consumer 0's shard (even), which the pops
    // below free.
    status = static_cast<int>(p.push(make_item(0, 1'000'000), forever));
  });
  while (!full)
    std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(status.load(), -1) << "push did not wait on a full queue";
  // Pop until the producer gets through (one pop for an exact bound, a block for moodycamel).
  auto c = consumer_handle(q, 0);
  Item out{};
  std::size_t popped = 0;
  while (status.load() == -1 && popped < filled) {
    ASSERT_TRUE(c.try_pop(out));
    ++popped;
    std::this_thread::sleep_for(1ms);
  }
  producer.join(hang_limit, "push blocked on a full queue after pops");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::ok));
}

TYPED_TEST_P(QueueContract, CloseWakesBlockedPop) {
  using Q = TypeParam;
  Q q(options<Q>(16));
  std::atomic<int> status{-1};
  BoundedThread consumer([&] {
    auto c = consumer_handle(q, 0);
    Item out{};
    status = static_cast<int>(c.pop(out, forever));
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(status.load(), -1);
  q.close();
  consumer.join(hang_limit, "pop blocked across close()");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::closed));
}

TYPED_TEST_P(QueueContract, CloseWakesBlockedPush) {
  using Q = TypeParam;
  Q q(options<Q>(8));
  std::atomic<bool> full{false};
  std::atomic<int> status{-1};
  BoundedThread producer([&] {
    auto p = producer_handle(q, 0);
    fill(p, 100'000);
    full = true;
    status = static_cast<int>(p.push(make_item(0, 1'000'000), forever));
  });
  while (!full)
    std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(status.load(), -1);
  q.close();
  producer.join(hang_limit, "push blocked across close()");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::closed));
}

TYPED_TEST_P(QueueContract, PopsDrainAfterCloseThenReportClosed) {
  using Q = TypeParam;
  const auto o = options<Q>(64);
  Q q(o);
  auto p = producer_handle(q, 0);
  for (std::uint64_t i = 0; i < 10; ++i)
    ASSERT_EQ(p.push(make_item(0, i), forever), QueueStatus::ok);
  q.close();
  q.close();  // idempotent
  EXPECT_TRUE(q.closed());
  std::set<std::uint64_t> seen;
  Item out{};
  if constexpr (Q::traits.order == Order::per_key) {
    // Every consumer handle drains its own shard, in push order, then reports closed; then the
    // handle-less pop (which scans every shard) reports closed too.
    for (std::size_t v = 0; v < consumer_views<Q>(o); ++v) {
      auto c = consumer_handle(q, v);
      std::uint64_t next = 0;
      QueueStatus st;
      while ((st = c.pop(out, forever)) == QueueStatus::ok) {
        EXPECT_GE(seq_of(out), next) << "consumer " << v << ": out of push order";
        next = seq_of(out) + 1;
        ASSERT_TRUE(seen.insert(seq_of(out)).second) << "item " << seq_of(out) << " popped twice";
      }
      EXPECT_EQ(st, QueueStatus::closed);
      EXPECT_EQ(c.pop(out, 10ms), QueueStatus::closed);
      EXPECT_FALSE(c.try_pop(out));
    }
    EXPECT_EQ(seen.size(), 10u) << "items lost by close()";
    EXPECT_EQ(q.pop(out, forever), QueueStatus::closed);
    EXPECT_EQ(q.pop(out, 10ms), QueueStatus::closed);
    EXPECT_FALSE(q.try_pop(out));
    return;
  }
  auto c = consumer_handle(q, 0);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(c.pop(out, forever), QueueStatus::ok) << "item " << i << " lost by close()";
    if constexpr (Q::traits.order == Order::fifo || Q::traits.order == Order::per_producer_fifo) {
      EXPECT_EQ(seq_of(out), static_cast<std::uint64_t>(i));
    }
    seen.insert(seq_of(out));
  }
  EXPECT_EQ(seen.size(), 10u);
  // Empty and closed: an untimed pop must return at once, not wait.
  EXPECT_EQ(c.pop(out, forever), QueueStatus::closed);
  EXPECT_EQ(c.pop(out, 10ms), QueueStatus::closed);
  EXPECT_FALSE(c.try_pop(out));
}

TYPED_TEST_P(QueueContract, PushAfterCloseReportsClosed) {
  using Q = TypeParam;
  Q q(options<Q>(16));
  q.close();
  auto p = producer_handle(q, 0);
  EXPECT_EQ(p.push(make_item(0, 1), forever), QueueStatus::closed);
  EXPECT_EQ(p.push(make_item(0, 2), 10ms), QueueStatus::closed);
  EXPECT_FALSE(p.try_push(make_item(0, 3)));
  EXPECT_FALSE(q.try_push(make_item(0, 4)));
  auto c = consumer_handle(q, 0);
  Item out{};
  EXPECT_EQ(c.pop(out, forever), QueueStatus::closed) << "a refused push left an item behind";
}

// A producer handle taken with CloseRace::after_pushes (the engine's: it closes the queue only
// after every producer finished) keeps the part of the contract that does not race close: what
// it pushed before close() is drained exactly once, and a push after close() is refused.
TYPED_TEST_P(QueueContract, CloseAfterPushesHandleDrainsAndRefuses) {
  using Q = TypeParam;
  const auto o = options<Q>(64);
  Q q(o);
  std::thread producer([&] {
    auto p = producer_handle(q, 0, CloseRace::after_pushes);
    for (std::uint64_t i = 0; i < 10; ++i)
      EXPECT_EQ(p.push(make_item(0, i), forever), QueueStatus::ok);
  });
  producer.join();
  q.close();
  auto p = producer_handle(q, 0, CloseRace::after_pushes);
  EXPECT_EQ(p.push(make_item(0, 10), 10ms), QueueStatus::closed);
  EXPECT_FALSE(p.try_push(make_item(0, 11)));
  std::set<std::uint64_t> seen;
  Item out{};
  for (std::size_t v = 0; v < consumer_views<Q>(o); ++v) {
    auto c = consumer_handle(q, v);
    QueueStatus st;
    while ((st = c.pop(out, forever)) == QueueStatus::ok)
      ASSERT_TRUE(seen.insert(seq_of(out)).second) << "item " << seq_of(out) << " popped twice";
    EXPECT_EQ(st, QueueStatus::closed);
  }
  EXPECT_EQ(seen.size(), 10u) << "items pushed before close() were lost";
  EXPECT_EQ(seen.count(10) + seen.count(11), 0u) << "a push after close() was accepted";
}

REGISTER_TYPED_TEST_SUITE_P(QueueContract, StaticFactsAreConsistent, EmptyTryPopFails,
                            FullTryPushFailsWhereBounded, UnboundedWhereAllowed, OrderAsPromised,
                            TimedPopTimesOut, TimedPushTimesOutWhenFull, BlockedPopResumesOnPush,
                            BlockedPushResumesOnPop, CloseWakesBlockedPop, CloseWakesBlockedPush,
                            PopsDrainAfterCloseThenReportClosed, PushAfterCloseReportsClosed,
                            CloseAfterPushesHandleDrainsAndRefuses);

}  // namespace qb::conformance
