// Stress and the close race as GoogleTest type-parameterized tests: part of the conformance kit
// (qbench/testing.hpp), instantiated for every built-in queue (tests/queue_stress_test.cpp) and
// for a user's queues (QBENCH_CONFORMANCE).
//
// Stress: every producer x consumer shape the queue's traits allow (8x8 on a small machine is
// oversubscribed on purpose). Producers push their share with blocking pushes (or what they push
// in a time budget), the main thread closes the queue once they are done, and consumers drain
// until closed. Every item must be consumed exactly once (per-item marks and a checksum), in
// per-producer order wherever the queue promises it (per consumer handle, for per_key queues).
// A failure names the property (LOST, DUPLICATED, ORDER, CHECKSUM) and the shape.
//
// Close race: close while producers are still pushing; whatever a push reported ok must come out.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "qbench/testing/support.hpp"

namespace qb::conformance {

using namespace std::chrono_literals;

namespace stress_detail {

struct Shape {
  std::size_t producers;
  std::size_t consumers;
};

struct ConsumerLog {
  std::vector<std::uint8_t> seen;   // per global item index: times this consumer saw it
  std::vector<std::uint64_t> next;  // per producer: lowest seq still allowed (order check)
  std::uint64_t checksum = 0;
  std::uint64_t order_violations = 0;
  std::uint64_t count = 0;
};

// Producers push their share of `total_items`, or stop early (at a multiple of 1024) once
// `budget` has passed: slow queues (sleep-polling, parking on 2 cores) get the same wall time as a
// fast queue needs for the whole share, and are verified on what they pushed.
template <class Q>
void stress(Shape shape, std::size_t total_items, std::size_t capacity,
            std::chrono::milliseconds budget) {
  const std::size_t per_producer = total_items / shape.producers;
  const std::size_t items = per_producer * shape.producers;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::vector<std::uint64_t> pushed(shape.producers, 0);
  Q q(QueueOptions{
      .capacity = capacity, .producers = shape.producers, .consumers = shape.consumers});

  std::vector<ConsumerLog> logs(shape.consumers);
  for (auto& l : logs) {
    l.seen.assign(items, 0);
    l.next.assign(shape.producers, 0);
  }
  std::atomic<std::size_t> push_failures{0};

  std::vector<BoundedThread> consumers;
  for (std::size_t c = 0; c < shape.consumers; ++c) {
    consumers.emplace_back([&q, &log = logs[c], c, per_producer] {
      auto h = consumer_handle(q, c);
      Item it{};
      while (h.pop(it, forever) == QueueStatus::ok) {
        const std::size_t idx = producer_of(it) * per_producer + seq_of(it);
        if (idx < log.seen.size()) ++log.seen[idx];
        log.checksum += static_cast<std::uint64_t>(it.intended_ns);
        ++log.count;
        // fifo, per_producer_fifo and per_key: a per_key consumer handle sees only its own
        // shard, which hands each producer's items out in push order (test Item key = seq
        // spreads them over every shard), so the per-producer check holds per consumer.
        if constexpr (Q::traits.order == Order::fifo ||
                      Q::traits.order == Order::per_producer_fifo ||
                      Q::traits.order == Order::per_key) {
          if (seq_of(it) < log.next[producer_of(it)]) ++log.order_violations;
          log.next[producer_of(it)] = seq_of(it) + 1;
        }
      }
    });
  }
  std::vector<BoundedThread> producers;
  for (std::size_t p = 0; p < shape.producers; ++p) {
    producers.emplace_back([&q, &push_failures, &pushed, p, per_producer, deadline] {
      auto h = producer_handle(q, p);
      std::uint64_t s = 0;
      for (; s < per_producer; ++s) {
        if ((s & 1023) == 0 && s > 0 && std::chrono::steady_clock::now() > deadline) break;
        if (h.push(make_item(p, s), forever) != QueueStatus::ok) ++push_failures;
      }
      pushed[p] = s;
    });
  }
  const auto limit = std::chrono::milliseconds(kSanitized ? 240'000 : 120'000);
  for (auto& t : producers)
    t.join(limit, "producer");
  q.close();
  for (auto& t : consumers)
    t.join(limit, "consumer (drain after close)");

  const std::string where = " (" + std::to_string(shape.producers) + " producers x " +
                            std::to_string(shape.consumers) + " consumers)";
  EXPECT_EQ(push_failures.load(), 0u) << "PUSH: a blocking push failed before close()" << where;
  std::uint64_t expected_sum = 0, expected_count = 0;
  for (std::size_t p = 0; p < shape.producers; ++p) {
    expected_count += pushed[p];
    for (std::uint64_t s = 0; s < pushed[p]; ++s)
      expected_sum += static_cast<std::uint64_t>(payload_of(p, s));
  }
  std::uint64_t sum = 0, count = 0, violations = 0;
  for (auto& l : logs) {
    sum += l.checksum;
    count += l.count;
    violations += l.order_violations;
  }
  EXPECT_EQ(count, expected_count) << "COUNT: items popped != items pushed" << where;
  EXPECT_EQ(sum, expected_sum) << "CHECKSUM: the items popped are not the items pushed" << where;
  EXPECT_EQ(violations, 0u) << "ORDER: a consumer saw a producer's items out of push order, "
                            << "and the queue's traits promise " << to_string(Q::traits.order)
                            << where;
  std::size_t lost = 0, duplicated = 0;
  for (std::size_t i = 0; i < items; ++i) {
    if (i % per_producer >= pushed[i / per_producer]) continue;  // never pushed
    unsigned times = 0;
    for (auto& l : logs)
      times += l.seen[i];
    lost += times == 0;
    duplicated += times > 1;
  }
  EXPECT_EQ(lost, 0u) << "LOST: items a push accepted were never popped" << where;
  EXPECT_EQ(duplicated, 0u) << "DUPLICATED: items popped more than once" << where;
}

}  // namespace stress_detail

template <class Q>
class QueueStress : public ::testing::Test {
  using Shape = stress_detail::Shape;

 protected:
  void run(Shape shape) {
    if (!Q::traits.serves(shape.producers, shape.consumers)) {
      GTEST_SKIP() << Q::name << " serves at most " << Q::traits.max_producers << "x"
                   << Q::traits.max_consumers;
    }
    if (Q::traits.can_stall && (shape.producers > 1 || shape.consumers > 1)) {
      GTEST_SKIP() << Q::name << " can deadlock with this shape (mutex_cv_one_stall_test shows it)";
    }
    // 500,000 items per run in the plain build (fewer under sanitizers), or what the producers
    // push in 600 ms if that is less (sleep-polling and parking queues on 2 cores); 400 ms
    // under the sanitizers, which run 5-20x slower (a slow queue is verified on what it pushed).
    stress_detail::stress<Q>(shape, scaled(500'000, 25), 256,
                             std::chrono::milliseconds(kSanitized ? 400 : 600));
  }
};
TYPED_TEST_SUITE_P(QueueStress);

TYPED_TEST_P(QueueStress, P1xC1) {
  this->run({1, 1});
}
TYPED_TEST_P(QueueStress, P2xC2) {
  this->run({2, 2});
}
TYPED_TEST_P(QueueStress, P4xC4) {
  this->run({4, 4});
}
TYPED_TEST_P(QueueStress, P8xC1) {
  this->run({8, 1});
}
TYPED_TEST_P(QueueStress, P1xC8) {
  this->run({1, 8});
}
// 16 threads on 2 cores: oversubscribed on purpose, where spinning queues suffer most.
TYPED_TEST_P(QueueStress, P8xC8Oversubscribed) {
  this->run({8, 8});
}

// Close while producers are still pushing: whatever a push reported ok must come out.
template <class Q>
class QueueCloseRace : public ::testing::Test {};
TYPED_TEST_SUITE_P(QueueCloseRace);

TYPED_TEST_P(QueueCloseRace, CloseDuringPushesLosesNothingAccepted) {
  using Q = TypeParam;
  const std::size_t np = Q::traits.max_producers ? Q::traits.max_producers : 2;
  const std::size_t nc = Q::traits.can_stall ? 1 : (Q::traits.max_consumers ? 1 : 2);
  const std::size_t producers = Q::traits.can_stall ? 1 : np;
  const int rounds = kSanitized ? 5 : 40;
  for (int round = 0; round < rounds; ++round) {
    Q q(QueueOptions{.capacity = 64, .producers = producers, .consumers = nc});
    std::vector<std::atomic<std::uint64_t>> accepted(producers);
    std::vector<std::atomic<std::uint64_t>> consumed(nc);
    std::vector<BoundedThread> threads;
    for (std::size_t c = 0; c < nc; ++c) {
      threads.emplace_back([&q, &consumed, c] {
        auto h = consumer_handle(q, c);
        Item it{};
        std::uint64_t n = 0;
        while (h.pop(it, forever) == QueueStatus::ok)
          ++n;
        consumed[c] = n;
      });
    }
    for (std::size_t p = 0; p < producers; ++p) {
      threads.emplace_back([&q, &accepted, p] {
        auto h = producer_handle(q, p);
        std::uint64_t ok = 0;
        for (std::uint64_t s = 0;; ++s) {
          const auto st = h.push(make_item(p, s), 1ms);
          if (st == QueueStatus::closed) break;
          if (st == QueueStatus::ok) ++ok;
        }
        accepted[p] = ok;
      });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200 + 50 * round));
    q.close();
    for (auto& t : threads)
      t.join(60s, "thread after close");
    std::uint64_t in = 0, out = 0;
    for (auto& a : accepted)
      in += a;
    for (auto& c : consumed)
      out += c;
    ASSERT_EQ(in, out) << "CLOSE: round " << round << ": pushes accepted around close() were "
                       << (out < in ? "lost" : "duplicated") << " (" << producers << " producers x "
                       << nc << " consumers)";
  }
}

REGISTER_TYPED_TEST_SUITE_P(QueueStress, P1xC1, P2xC2, P4xC4, P8xC1, P1xC8, P8xC8Oversubscribed);
REGISTER_TYPED_TEST_SUITE_P(QueueCloseRace, CloseDuringPushesLosesNothingAccepted);

}  // namespace qb::conformance
