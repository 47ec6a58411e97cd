// Tests of qb::Sharded (queues/sharded.hpp), the actor-style mailboxes, beyond the contract and
// stress suites: routing by key, per-key order under concurrency, close of one consumer's
// mailbox, the capacity split, and the key function.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

namespace qb::test {

// An item with an explicit key, so that many items share one key. Outside the anonymous
// namespace on purpose: with internal linkage GCC inlines the whole Boost.Lockfree pop/push
// into the test's lambdas, whose inlined frames TSan then names without their namespace, so
// tests/tsan.supp's Boost.Lockfree entries (qualified names) stop matching.
struct Keyed {
  std::uint64_t producer;
  std::uint64_t key;
  std::uint64_t seq;
};
static_assert(std::is_trivially_copyable_v<Keyed>);

// Found by qb::shard_key_of through argument-dependent lookup.
constexpr std::uint64_t shard_key(const Keyed& k) noexcept {
  return k.key;
}

namespace {

using namespace std::chrono_literals;

// The registered per_key queues, from the one list (queues/all_queues.hpp).
template <class In, class Out = TypeList<>>
struct PerKeyOnly;
template <class... Out>
struct PerKeyOnly<TypeList<>, TypeList<Out...>> {
  using list = TypeList<Out...>;
  using type = ::testing::Types<Out...>;
};
template <class Q, class... Rest, class... Out>
struct PerKeyOnly<TypeList<Q, Rest...>, TypeList<Out...>> {
  using next =
      std::conditional_t<Q::traits.order == Order::per_key, TypeList<Out..., Q>, TypeList<Out...>>;
  using list = typename PerKeyOnly<TypeList<Rest...>, next>::list;
  using type = typename PerKeyOnly<TypeList<Rest...>, next>::type;
};
using ShardedQueues = PerKeyOnly<AllQueues<Keyed>>;
static_assert(ShardedQueues::list::size >= 2, "sharded:split_cv and sharded:boost_lockfree+park");

template <class Q>
class ShardedQueue : public ::testing::Test {};
TYPED_TEST_SUITE(ShardedQueue, ShardedQueues::type, QueueNames);

constexpr Keyed keyed(std::uint64_t key, std::uint64_t seq = 0, std::uint64_t producer = 0) {
  return Keyed{producer, key, seq};
}

// ---- The key function ------------------------------------------------------------------------

struct OneByte {
  char c;
};

TEST(ShardKey, UsesAdlShardKeyWhenPresent) {
  EXPECT_EQ(shard_key_of(keyed(12345, 7)), 12345u);
  EXPECT_EQ(shard_key_of(make_item(3, 17)), 17u) << "test Item: key = seq";
}

TEST(ShardKey, FallsBackToFnv1aOverTheBytes) {
  // FNV-1a 64 test vectors: "a" and "b".
  EXPECT_EQ(shard_key_of(OneByte{'a'}), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(shard_key_of(OneByte{'b'}), 0xaf63df4c8601f1a5ULL);
}

TEST(ShardKey, OrderPerKeyHasItsName) {
  EXPECT_EQ(to_string(Order::per_key), "per_key");
}

// ---- Static facts and routing ---------------------------------------------------------------

TYPED_TEST(ShardedQueue, NameAndTraits) {
  using Q = TypeParam;
  EXPECT_EQ(std::string(Q::name), "sharded:" + std::string(Q::inner_type::name));
  EXPECT_NE(Q::traits.summary.find(Q::inner_type::name), std::string_view::npos);
  EXPECT_EQ(Q::traits.order, Order::per_key);
  EXPECT_EQ(Q::traits.bound, Bound::approximate);
  EXPECT_EQ(Q::traits.progress, Q::inner_type::traits.progress);
  EXPECT_EQ(Q::traits.max_consumers, 0u);
  static_assert(HasWaitStats<Q> == HasWaitStats<typename Q::inner_type>);
}

TYPED_TEST(ShardedQueue, OneMailboxPerConsumer) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 64, .producers = 1, .consumers = 3});
  EXPECT_EQ(q.mailboxes(), 3u);
  EXPECT_NO_THROW((void)consumer_handle(q, 2));
  EXPECT_THROW((void)consumer_handle(q, 3), std::out_of_range);
  Q zero(QueueOptions{.capacity = 64, .producers = 1, .consumers = 0});
  EXPECT_EQ(zero.mailboxes(), 1u);
}

TYPED_TEST(ShardedQueue, ConsumerSeesOnlyItsMailboxAndMayPush) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 64, .producers = 1, .consumers = 3});
  auto p = producer_handle(q, 0);
  for (std::uint64_t k = 0; k < 9; ++k)
    ASSERT_TRUE(p.try_push(keyed(k, k)));
  for (std::size_t c = 0; c < 3; ++c) {
    auto h = consumer_handle(q, c);
    Keyed out{};
    std::uint64_t last = 0;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(h.try_pop(out)) << "consumer " << c;
      EXPECT_EQ(out.key % 3, c) << "consumer " << c << " got another mailbox's key";
      if (i > 0) {
        EXPECT_GT(out.seq, last);
      }
      last = out.seq;
    }
    EXPECT_FALSE(h.try_pop(out)) << "consumer " << c << " saw more than its mailbox";
  }
  // Fork/join: a consumer's pushes route by key, to any mailbox.
  auto c0 = consumer_handle(q, 0);
  auto c2 = consumer_handle(q, 2);
  ASSERT_EQ(c0.push(keyed(5, 100), forever), QueueStatus::ok);
  ASSERT_TRUE(c0.try_push(keyed(8, 101)));
  Keyed out{};
  EXPECT_FALSE(c0.try_pop(out));
  ASSERT_TRUE(c2.try_pop(out));
  EXPECT_EQ(out.seq, 100u);
  ASSERT_TRUE(c2.try_pop(out));
  EXPECT_EQ(out.seq, 101u);
}

TYPED_TEST(ShardedQueue, HandlelessPopsScanEveryMailbox) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 64, .producers = 1, .consumers = 4});
  for (std::uint64_t k = 0; k < 8; ++k)
    ASSERT_TRUE(q.try_push(keyed(k, k)));
  std::vector<int> got(8, 0);
  Keyed out{};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(q.try_pop(out));
    ++got[out.seq];
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(q.pop(out, 0ns), QueueStatus::ok);
    ++got[out.seq];
  }
  for (int n : got)
    EXPECT_EQ(n, 1);
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(q.pop(out, 0ns), QueueStatus::timeout);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(q.pop(out, 30ms), QueueStatus::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 29ms);
  // A handle-less pop that polls finds an item pushed while it waits.
  std::atomic<int> status{-1};
  BoundedThread popper([&] {
    Keyed in{};
    status = static_cast<int>(q.pop(in, forever));
    EXPECT_EQ(in.seq, 77u);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(status.load(), -1);
  ASSERT_TRUE(q.try_push(keyed(3, 77)));
  popper.join(10s, "handle-less pop after a push");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::ok));
}

// ---- (c) The capacity split ---------------------------------------------------------------

TYPED_TEST(ShardedQueue, CapacitySplitsOverMailboxes) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 10, .producers = 1, .consumers = 4});
  EXPECT_EQ(q.capacity(), 12u) << "4 mailboxes of ceil(10 / 4) = 3";
  auto p = producer_handle(q, 0);
  // Keys 0, 4, 8, 12 all go to mailbox 0.
  for (std::uint64_t i = 0; i < 3; ++i)
    ASSERT_TRUE(p.try_push(keyed(4 * i, i))) << "mailbox 0 refused item " << i;
  EXPECT_FALSE(p.try_push(keyed(12, 3))) << "mailbox 0 holds 3";
  EXPECT_FALSE(q.try_push(keyed(16, 4))) << "mailbox 0 holds 3 (handle-less)";
  EXPECT_EQ(p.push(keyed(20, 5), 10ms), QueueStatus::timeout);
  EXPECT_TRUE(p.try_push(keyed(1, 6))) << "mailbox 1 is empty, yet refused";
  EXPECT_TRUE(q.try_push(keyed(3, 7))) << "mailbox 3 is empty, yet refused";
  if (q.approx_size() != size_unknown) {
    EXPECT_EQ(q.approx_size(), 5u);
  }
  // A pop from mailbox 0 makes room in mailbox 0.
  auto c0 = consumer_handle(q, 0);
  Keyed out{};
  ASSERT_TRUE(c0.try_pop(out));
  EXPECT_EQ(out.seq, 0u);
  EXPECT_TRUE(p.try_push(keyed(12, 8)));

  Q tiny(QueueOptions{.capacity = 2, .producers = 1, .consumers = 4});
  EXPECT_EQ(tiny.capacity(), 4u) << "every mailbox holds at least one";
  if constexpr (Q::traits.allows_unbounded) {
    Q big(QueueOptions{.capacity = unbounded, .producers = 1, .consumers = 4});
    EXPECT_EQ(big.capacity(), unbounded);
  }
}

// ---- (b) Close of one consumer's mailbox ------------------------------------------------------

TYPED_TEST(ShardedQueue, BlockedConsumerWakesOnlyForItsMailbox) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 16, .producers = 1, .consumers = 2});
  std::atomic<int> status{-1};
  Keyed got{};
  BoundedThread consumer([&] {
    auto c = consumer_handle(q, 1);
    status = static_cast<int>(c.pop(got, forever));
  });
  std::this_thread::sleep_for(20ms);
  auto p = producer_handle(q, 0);
  ASSERT_EQ(p.push(keyed(0, 1), forever), QueueStatus::ok);  // mailbox 0
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(status.load(), -1) << "consumer 1 popped mailbox 0's item";
  ASSERT_EQ(p.push(keyed(1, 2), forever), QueueStatus::ok);  // mailbox 1
  consumer.join(10s, "consumer blocked on its mailbox after a push to it");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::ok));
  EXPECT_EQ(got.seq, 2u);
  if constexpr (HasWaitStats<Q>) {
    EXPECT_GE(q.stats().notifies, 1u) << "the mailboxes' wakeup counts are not summed";
  }
}

TYPED_TEST(ShardedQueue, CloseWakesConsumerOnEmptyMailboxAndOthersDrain) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 16, .producers = 1, .consumers = 2});
  auto p = producer_handle(q, 0);
  for (std::uint64_t s = 0; s < 5; ++s)
    ASSERT_EQ(p.push(keyed(2 * s, s), forever), QueueStatus::ok);  // all in mailbox 0
  std::atomic<int> status{-1};
  BoundedThread consumer([&] {
    auto c = consumer_handle(q, 1);
    Keyed out{};
    status = static_cast<int>(c.pop(out, forever));
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(status.load(), -1) << "consumer 1 returned with its mailbox empty and open";
  q.close();
  consumer.join(10s, "consumer blocked on its empty mailbox across close()");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::closed));
  EXPECT_EQ(p.push(keyed(0, 9), forever), QueueStatus::closed);
  // Mailbox 0 drains, in push order, before it reports closed.
  auto c0 = consumer_handle(q, 0);
  Keyed out{};
  for (std::uint64_t s = 0; s < 5; ++s) {
    ASSERT_EQ(c0.pop(out, forever), QueueStatus::ok) << "item " << s << " lost by close()";
    EXPECT_EQ(out.seq, s);
  }
  EXPECT_EQ(c0.pop(out, forever), QueueStatus::closed);
}

TYPED_TEST(ShardedQueue, CloseWakesHandlelessPopAfterItDrains) {
  using Q = TypeParam;
  Q q(QueueOptions{.capacity = 16, .producers = 1, .consumers = 3});
  std::atomic<int> status{-1};
  BoundedThread waiter([&] {
    Keyed out{};
    status = static_cast<int>(q.pop(out, forever));
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(status.load(), -1);
  q.close();
  waiter.join(10s, "handle-less pop across close()");
  EXPECT_EQ(status.load(), static_cast<int>(QueueStatus::closed));

  Q r(QueueOptions{.capacity = 16, .producers = 1, .consumers = 3});
  for (std::uint64_t k = 0; k < 6; ++k)
    ASSERT_TRUE(r.try_push(keyed(k, k)));
  r.close();
  Keyed out{};
  std::vector<int> got(6, 0);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(r.pop(out, forever), QueueStatus::ok) << "item " << i << " lost by close()";
    ++got[out.seq];
  }
  for (int n : got)
    EXPECT_EQ(n, 1);
  EXPECT_EQ(r.pop(out, forever), QueueStatus::closed);
  EXPECT_EQ(r.pop(out, 0ns), QueueStatus::closed);
}

// ---- (a) Per-key order under concurrency --------------------------------------------------

struct KeyShape {
  std::size_t producers;
  std::size_t consumers;  // = mailboxes
  std::uint64_t keys;     // K: keys 0..K-1
};

template <class Q>
void per_key_order(KeyShape shape) {
  SCOPED_TRACE(::testing::Message() << shape.producers << " producers, " << shape.consumers
                                    << " consumers, " << shape.keys << " keys");
  const std::size_t per_producer = scaled(60'000);
  const std::size_t np = shape.producers, nc = shape.consumers;
  const std::uint64_t nk = shape.keys;
  Q q(QueueOptions{.capacity = 64, .producers = np, .consumers = nc});
  ASSERT_EQ(q.mailboxes(), nc);

  struct Log {
    std::vector<std::uint64_t> last;  // per (producer, key): seq + 1 of the last item, 0 = none
    std::vector<std::uint32_t> seen;  // per (producer, seq): times this consumer got it
    std::uint64_t wrong_mailbox = 0, out_of_order = 0, count = 0;
  };
  std::vector<Log> logs(nc);
  for (auto& l : logs) {
    l.last.assign(np * nk, 0);
    l.seen.assign(np * per_producer, 0);
  }
  std::atomic<std::size_t> push_failures{0};

  std::vector<BoundedThread> threads;
  for (std::size_t c = 0; c < nc; ++c) {
    threads.emplace_back([&q, &log = logs[c], c, nk, np, per_producer] {
      auto h = consumer_handle(q, c);
      Keyed it{};
      while (h.pop(it, forever) == QueueStatus::ok) {
        ++log.count;
        if (it.key % q.mailboxes() != c) ++log.wrong_mailbox;
        if (it.producer >= np || it.key >= nk || it.seq >= per_producer) {
          ++log.wrong_mailbox;  // garbage: counted as misrouted
          continue;
        }
        std::uint64_t& last = log.last[it.producer * nk + it.key];
        if (it.seq + 1 <= last) ++log.out_of_order;
        last = it.seq + 1;
        ++log.seen[it.producer * per_producer + it.seq];
      }
    });
  }
  std::vector<BoundedThread> producers;
  for (std::size_t p = 0; p < np; ++p) {
    producers.emplace_back([&q, &push_failures, p, nk, per_producer] {
      auto h = producer_handle(q, p);
      for (std::uint64_t s = 0; s < per_producer; ++s) {
        // Producers walk the keys from different offsets, so that they collide on mailboxes.
        if (h.push(keyed((s + 3 * p) % nk, s, p), forever) != QueueStatus::ok) ++push_failures;
      }
    });
  }
  const auto limit = std::chrono::milliseconds(kSanitized ? 240'000 : 120'000);
  for (auto& t : producers)
    t.join(limit, "producer");
  q.close();
  for (auto& t : threads)
    t.join(limit, "consumer (drain after close)");

  EXPECT_EQ(push_failures.load(), 0u);
  std::uint64_t count = 0, wrong = 0, disorder = 0;
  for (const auto& l : logs) {
    count += l.count;
    wrong += l.wrong_mailbox;
    disorder += l.out_of_order;
  }
  EXPECT_EQ(count, np * per_producer);
  EXPECT_EQ(wrong, 0u) << "a consumer got a key of another mailbox (key % N != its index)";
  EXPECT_EQ(disorder, 0u) << "a (producer, key) sequence went backwards";
  std::size_t lost = 0, duplicated = 0;
  for (std::size_t i = 0; i < np * per_producer; ++i) {
    std::uint32_t times = 0;
    for (const auto& l : logs)
      times += l.seen[i];
    lost += times == 0;
    duplicated += times > 1;
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);
}

TYPED_TEST(ShardedQueue, PerKeyOrderTwoProducersFourMailboxes) {
  // K < N (mailboxes left idle), K not a multiple of N, K a multiple of N.
  for (std::uint64_t k : {1u, 3u, 7u, 8u})
    per_key_order<TypeParam>({.producers = 2, .consumers = 4, .keys = k});
}

TYPED_TEST(ShardedQueue, PerKeyOrderFourProducersThreeMailboxes) {
  for (std::uint64_t k : {2u, 5u, 64u})
    per_key_order<TypeParam>({.producers = 4, .consumers = 3, .keys = k});
}

TYPED_TEST(ShardedQueue, PerKeyOrderThreeProducersTwoMailboxes) {
  for (std::uint64_t k : {1u, 9u})
    per_key_order<TypeParam>({.producers = 3, .consumers = 2, .keys = k});
}

}  // namespace
}  // namespace qb::test
