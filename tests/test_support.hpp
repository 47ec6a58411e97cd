// Shared pieces of the test suites: the item type, the typed-test list built from
// queues/all_queues.hpp, sanitizer scaling and bounded joins (no test may hang the suite).
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

#if defined(QB_SANITIZER_BUILD)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// Item counts shrink under sanitizers, which run 5-20x slower.
constexpr std::size_t scaled(std::size_t n, std::size_t divisor = 20) {
  return kSanitized ? (n / divisor > 0 ? n / divisor : 1) : n;
}

template <class L>
struct ToGTest;
template <class... Ts>
struct ToGTest<qb::TypeList<Ts...>> {
  using type = ::testing::Types<Ts...>;
};
// The queues under test: one group of queues/all_queues.hpp when the build names it (the
// contract and stress suites are built once per group), else all of them.
#if defined(QB_TEST_GROUP)
using AllTestQueues = ToGTest<qb::QB_TEST_GROUP<Item>>::type;
#else
using AllTestQueues = ToGTest<qb::AllQueues<Item>>::type;
#endif

// Registry names contain '+' and ':', which gtest filters treat specially.
struct QueueNames {
  template <class Q>
  static std::string GetName(int) {
    std::string s(Q::name);
    for (char& c : s)
      if (c == '+' || c == ':') c = '_';
    return s;
  }
};

// Makes a queue with options that every queue can serve.
template <class Q>
QueueOptions options(std::size_t capacity, std::size_t producers = 2, std::size_t consumers = 2) {
  QueueOptions o{.capacity = capacity, .producers = producers, .consumers = consumers};
  if (Q::traits.max_producers) o.producers = Q::traits.max_producers;
  if (Q::traits.max_consumers) o.consumers = Q::traits.max_consumers;
  return o;
}

// A thread whose join is bounded: if it has not finished within `limit`, the test process
// reports it and exits with failure instead of hanging the suite.
class BoundedThread {
 public:
  template <class F>
  explicit BoundedThread(F&& f) {
    auto done = std::make_shared<std::promise<void>>();
    finished_ = done->get_future();
    thread_ = std::thread([done, fn = std::forward<F>(f)]() mutable {
      fn();
      done->set_value();
    });
  }
  BoundedThread(BoundedThread&&) = default;
  ~BoundedThread() {
    if (thread_.joinable()) join(std::chrono::seconds(30));
  }
  // True if the thread had finished within `limit` (the thread is joined then).
  bool finished_within(std::chrono::milliseconds limit) {
    return finished_.wait_for(limit) == std::future_status::ready;
  }
  void join(std::chrono::milliseconds limit, const char* what = "thread") {
    if (!finished_within(limit)) {
      std::fprintf(stderr, "FATAL: %s did not finish within %lld ms: the queue hangs\n", what,
                   static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::_Exit(3);
    }
    thread_.join();
  }

 private:
  std::thread thread_;
  std::future<void> finished_;
};

}  // namespace qb::test
