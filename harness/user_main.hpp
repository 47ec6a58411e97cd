// Your queues in qbench: one line gives a benchmark binary the whole qbench command line (list,
// run, bare, compare, suite, calibrate, columns) with your queues beside every built-in one.
//
//   #include <qbench/qbench.hpp>
//   class MyQueue { ... };                        // satisfies qb::ConcurrentQueue for qb::Item
//   QBENCH_MAIN(MyQueue, qb::Waiting<MyTryQueue, qb::Park<>>)
//
// The built-in queues come precompiled in the library (qbench::harness); this translation unit
// instantiates the engine for your types only. A type that is not a queue stops the build with
// one message per missing operation (qb::check_queue below), not a page of template errors.
// docs/your-queue.md is the full guide.
#pragma once

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "harness/app.hpp"
#include "harness/registry.hpp"
#include "queues/concept.hpp"

namespace qb {

// True when Q passes; otherwise the build fails here with a static_assert that names what Q lacks
// (each check is a requires-expression, so a missing member is a false, never a hard error).
template <class Q>
constexpr bool check_queue() {
  static_assert(
      requires { typename Q::value_type; },
      "qbench: your queue needs `using value_type = qb::Item;`");
  static_assert(
      requires { requires std::is_same_v<typename Q::value_type, Item>; },
      "qbench: the harness passes qb::Item: declare `using value_type = qb::Item;` "
      "(instantiate a template queue for qb::Item)");
  static_assert(std::constructible_from<Q, const QueueOptions&>,
                "qbench: your queue needs a constructor from `const qb::QueueOptions&` "
                "(capacity, producers, consumers)");
  static_assert(
      requires {
        { Q::name } -> std::convertible_to<std::string_view>;
      },
      "qbench: your queue needs `static constexpr std::string_view name` (what --queue "
      "takes and the CSV's queue column shows)");
  static_assert(
      requires {
        { Q::traits } -> std::convertible_to<QueueTraits>;
      },
      "qbench: your queue needs `static constexpr qb::QueueTraits traits` (order, "
      "bound, progress, the shapes it serves)");
  static_assert(
      requires(Q & q, const Item& in) {
        { q.try_push(in) } -> std::same_as<bool>;
      },
      "qbench: your queue needs `bool try_push(const qb::Item&)` (never waits)");
  static_assert(
      requires(Q & q, Item & out) {
        { q.try_pop(out) } -> std::same_as<bool>;
      },
      "qbench: your queue needs `bool try_pop(qb::Item&)` (never waits)");
  static_assert(
      requires(Q & q, const Item& in, std::chrono::nanoseconds t) {
        { q.push(in, t) } -> std::same_as<QueueStatus>;
      } || !TryQueue<Q>,
      "qbench: your queue has try_push/try_pop only: register qb::Waiting<YourQueue, qb::Park<>> "
      "(or qb::Spin, qb::Yield, qb::SleepPoll<N>), which adds waiting and close");
  static_assert(
      requires(Q & q, const Item& in, std::chrono::nanoseconds t) {
        { q.push(in, t) } -> std::same_as<QueueStatus>;
      },
      "qbench: your queue needs `qb::QueueStatus push(const qb::Item&, std::chrono::nanoseconds)` "
      "(waits up to the timeout; qb::forever for no timeout)");
  static_assert(
      requires(Q & q, Item & out, std::chrono::nanoseconds t) {
        { q.pop(out, t) } -> std::same_as<QueueStatus>;
      },
      "qbench: your queue needs `qb::QueueStatus pop(qb::Item&, std::chrono::nanoseconds)`");
  static_assert(
      requires(Q & q) {
        { q.close() }
        noexcept;
      },
      "qbench: your queue needs `void close() noexcept` (pushes refused, pops drain "
      "then return closed)");
  static_assert(
      requires(const Q& q) {
        { q.closed() } -> std::same_as<bool>;
      },
      "qbench: your queue needs `bool closed() const`");
  static_assert(
      requires(const Q& q) {
        { q.capacity() } -> std::same_as<std::size_t>;
      },
      "qbench: your queue needs `std::size_t capacity() const` (qb::unbounded if none)");
  static_assert(
      requires(const Q& q) {
        { q.approx_size() } -> std::same_as<std::size_t>;
      },
      "qbench: your queue needs `std::size_t approx_size() const` (qb::size_unknown if "
      "it keeps no count)");
  return ConcurrentQueue<Q>;
}

// The built-in queues plus Qs, marked as the user's; a clash of names throws
// std::invalid_argument.
template <class... Qs>
Registry registry_with() {
  Registry reg = default_registry();
  (
      [&] {
        if constexpr (check_queue<Qs>()) reg.add<Qs>(/*user=*/true);
      }(),
      ...);
  return reg;
}

// main() of a user's benchmark binary: a bad registration is one line on stderr and exit 2.
template <class... Qs>
int user_main(int argc, char** argv) {
  Registry reg;
  try {
    reg = registry_with<Qs...>();
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s: %s\n", argc > 0 ? argv[0] : "qbench", e.what());
    return 2;
  }
  return qbench_main(argc, argv, reg);
}

}  // namespace qb

// Defines main(): the qbench command line with the listed queues beside the built-ins.
#define QBENCH_MAIN(...)                             \
  int main(int argc, char** argv) {                  \
    return ::qb::user_main<__VA_ARGS__>(argc, argv); \
  }
