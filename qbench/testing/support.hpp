// The conformance kit's shared pieces (qbench/testing.hpp): the items it pushes, the options
// that every queue can serve, sanitizer scaling and bounded joins (no test may hang a suite).
// Needs GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "core/item.hpp"
#include "queues/concept.hpp"

namespace qb::conformance {

// The kit pushes qb::Item, the harness's item (so a queue registered with QBENCH_MAIN is tested
// as it is measured): the id carries producer and sequence number (the key is seq mod 2^16, so
// a sharded queue spreads one producer's items over every mailbox), intended_ns a payload that
// catches torn or mixed-up copies.
inline constexpr std::int64_t payload_of(std::uint64_t producer, std::uint64_t seq) {
  return static_cast<std::int64_t>(producer * 1'000'003u + seq * 7919u + 1);
}
inline constexpr Item make_item(std::uint64_t producer, std::uint64_t seq) {
  return Item{.id = make_item_id(producer, seq % max_keys, seq),
              .intended_ns = payload_of(producer, seq),
              .pushed_ns = 0};
}
inline constexpr std::uint64_t producer_of(const Item& it) {
  return item_producer(it.id);
}
inline constexpr std::uint64_t seq_of(const Item& it) {
  return item_seq(it.id);
}
// True when the item is one make_item made (not torn, not a mix of two items).
inline constexpr bool intact(const Item& it) {
  return it.intended_ns == payload_of(producer_of(it), seq_of(it)) &&
         item_key(it.id) == seq_of(it) % max_keys;
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

// How long a call blocked in the queue may take to return once what should release it (a push,
// a pop, close()) has happened, before the kit calls the queue hung and exits. Define
// QBENCH_HANG_LIMIT_MS before including qbench/testing.hpp to change it (the kit's own
// self-test, which waits it out on purpose, uses 2000).
#if !defined(QBENCH_HANG_LIMIT_MS)
#define QBENCH_HANG_LIMIT_MS 10000
#endif
inline constexpr std::chrono::milliseconds hang_limit{QBENCH_HANG_LIMIT_MS};

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

// ::testing::Types of a qb::TypeList (queues/all_queues.hpp's groups).
template <class L>
struct TypesOf;
template <class... Qs>
struct TypesOf<TypeList<Qs...>> {
  using type = ::testing::Types<Qs...>;
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

}  // namespace qb::conformance
