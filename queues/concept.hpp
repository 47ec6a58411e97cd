// The queue contract every qbench queue follows (DESIGN.md section 2), the per-thread handles
// the worker loops go through, and the small compile-time helpers the queue headers share.
// This header depends only on the standard library.
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

// On the per-item path of the wrappers and the harness: inlined whatever the compiler's budget
// says. An out-of-line call there saves and restores registers, and behind a fast queue's store to
// a contended line every extra store waits in the store buffer (see harness/engine.hpp).
#define QB_ALWAYS_INLINE [[gnu::always_inline]]

namespace qb {

enum class QueueStatus { ok, timeout, closed };

// What order a consumer observes items in.
enum class Order {
  fifo,               // one global order: items leave in the order their pushes linearized
  per_producer_fifo,  // items of one producer leave in the order it pushed them
  none,               // no promise (work stealing)
  per_key,            // items of one producer with the same key leave in the order it pushed
                      // them; each consumer handle sees only its own shard
};

// How the capacity given at construction limits the number of items held.
enum class Bound {
  exact,        // try_push fails exactly when capacity() items are held
  approximate,  // the limit is a rough one (per-producer blocks, batches moved out of the bound)
  unbounded,    // pushes never fail for lack of room; memory grows with the backlog
};

// The progress guarantee of the data structure itself (the waiting wrapper adds blocking).
enum class Progress { blocking, obstruction_free, lock_free, wait_free };

struct QueueTraits {
  std::string_view summary;
  Order order;
  Bound bound;
  Progress progress;
  // Largest shape the queue can serve correctly: 0 = any number. boost_spsc is 1 x 1.
  std::size_t max_producers = 0;
  std::size_t max_consumers = 0;
  // True for a queue that can deadlock on purpose (mutex_cv_one): tests run it only where it
  // cannot, the harness's watchdog shows it when it does.
  bool can_stall = false;
  // True when the queue accepts capacity == qb::unbounded (grows instead of refusing).
  bool allows_unbounded = false;

  [[nodiscard]] constexpr bool lock_free() const {
    return progress == Progress::lock_free || progress == Progress::wait_free;
  }
  [[nodiscard]] constexpr bool serves(std::size_t producers, std::size_t consumers) const {
    return (max_producers == 0 || producers <= max_producers) &&
           (max_consumers == 0 || consumers <= max_consumers);
  }
};

constexpr std::string_view to_string(Order o) {
  switch (o) {
    case Order::fifo:
      return "fifo";
    case Order::per_producer_fifo:
      return "per_producer_fifo";
    case Order::none:
      return "none";
    case Order::per_key:
      return "per_key";
  }
  return "?";
}
constexpr std::string_view to_string(Bound b) {
  switch (b) {
    case Bound::exact:
      return "exact";
    case Bound::approximate:
      return "approximate";
    case Bound::unbounded:
      return "unbounded";
  }
  return "?";
}
constexpr std::string_view to_string(Progress p) {
  switch (p) {
    case Progress::blocking:
      return "blocking";
    case Progress::obstruction_free:
      return "obstruction_free";
    case Progress::lock_free:
      return "lock_free";
    case Progress::wait_free:
      return "wait_free";
  }
  return "?";
}
constexpr std::string_view to_string(QueueStatus s) {
  switch (s) {
    case QueueStatus::ok:
      return "ok";
    case QueueStatus::timeout:
      return "timeout";
    case QueueStatus::closed:
      return "closed";
  }
  return "?";
}

// capacity() of a queue that has no bound.
inline constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

// approx_size() of a queue that keeps no count of its items (the harness counts for itself).
inline constexpr std::size_t size_unknown = std::numeric_limits<std::size_t>::max();

// A timeout that never expires: waits with it are untimed.
inline constexpr std::chrono::nanoseconds forever = std::chrono::nanoseconds::max();

// Everything a queue may need to know at construction. Every queue is constructible from it.
struct QueueOptions {
  std::size_t capacity = 1024;  // qb::unbounded for no bound (where the queue allows it)
  std::size_t producers = 1;    // threads that will push through producer handles
  std::size_t consumers = 1;    // threads that will pop through consumer handles
};

template <class Q>
concept ConcurrentQueue = std::is_trivially_copyable_v<typename Q::value_type> &&
    std::constructible_from<Q, const QueueOptions&> &&
    requires(Q& q, const Q& cq, typename Q::value_type& out, const typename Q::value_type& in,
             std::chrono::nanoseconds t) {
  { Q::name } -> std::convertible_to<std::string_view>;  // registry / CSV key
  { Q::traits } -> std::convertible_to<QueueTraits>;
  { q.try_push(in) } -> std::same_as<bool>;  // never waits
  { q.try_pop(out) } -> std::same_as<bool>;
  { q.push(in, t) } -> std::same_as<QueueStatus>;  // waits up to t
  { q.pop(out, t) } -> std::same_as<QueueStatus>;
  { q.close() }
  noexcept;
  { cq.closed() } -> std::same_as<bool>;
  { cq.capacity() } -> std::same_as<std::size_t>;     // or qb::unbounded
  { cq.approx_size() } -> std::same_as<std::size_t>;  // stale on return
};

// A queue with only non-blocking operations; a wait strategy (wait_strategies.hpp) turns it
// into a ConcurrentQueue.
template <class Q>
concept TryQueue = std::is_trivially_copyable_v<typename Q::value_type> &&
    std::constructible_from<Q, const QueueOptions&> &&
    requires(Q& q, const Q& cq, typename Q::value_type& out, const typename Q::value_type& in) {
  { Q::name } -> std::convertible_to<std::string_view>;
  { Q::traits } -> std::convertible_to<QueueTraits>;
  { q.try_push(in) } -> std::same_as<bool>;
  { q.try_pop(out) } -> std::same_as<bool>;
  { cq.capacity() } -> std::same_as<std::size_t>;
  { cq.approx_size() } -> std::same_as<std::size_t>;
};

// Wakeup accounting of the condition-variable queues (optional `stats()` member).
struct WaitStats {
  std::uint64_t wakeups = 0;         // returns from a wait (notified, spurious or timed out)
  std::uint64_t wasted_wakeups = 0;  // of those, woken by a notify with nothing to do
  std::uint64_t notifies = 0;        // notify calls made
};

template <class Q>
concept HasWaitStats = requires(const Q& q) {
  { q.stats() } -> std::convertible_to<WaitStats>;
};

// ---- Per-thread handles -------------------------------------------------------------------
// Worker loops push and pop through handles. A queue that needs per-thread state (moodycamel
// tokens, a work-stealing deque per worker, a close-gate slot) provides
// `producer_handle(i)` / `consumer_handle(i)`; every other queue gets this pass-through.
template <class Q>
class PassThroughHandle {
 public:
  using value_type = typename Q::value_type;
  explicit PassThroughHandle(Q& q) noexcept : q_(&q) {}
  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const value_type& v) { return q_->try_push(v); }
  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(value_type& v) { return q_->try_pop(v); }
  QueueStatus push(const value_type& v, std::chrono::nanoseconds t) { return q_->push(v, t); }
  QueueStatus pop(value_type& v, std::chrono::nanoseconds t) { return q_->pop(v, t); }

 private:
  Q* q_;
};

template <class Q>
auto producer_handle(Q& q, std::size_t i) {
  if constexpr (requires { q.producer_handle(i); }) {
    return q.producer_handle(i);
  } else {
    (void)i;
    return PassThroughHandle<Q>(q);
  }
}

// What the caller of producer_handle promises about close(). `may_race`: close() may come while
// this handle is pushing, and a push that close() overtook must still be either refused or
// consumed (the contract of close). `after_pushes`: every close() of the queue happens after this
// handle's last push (the caller orders them, as qbench's engine does: it closes once every
// producer has finished), so a queue may drop whatever it does per push to win that race (the
// close gate of qb::Waiting: two stores per push, a quarter to a half of a fast queue's push on a
// 2-core VM). A push after close() is still refused, just not exactly at the close.
enum class CloseRace { may_race, after_pushes };

template <class Q>
auto producer_handle(Q& q, std::size_t i, CloseRace race) {
  if constexpr (requires { q.producer_handle(i, race); }) {
    return q.producer_handle(i, race);
  } else {
    (void)race;
    return producer_handle(q, i);
  }
}

template <class Q>
auto consumer_handle(Q& q, std::size_t i) {
  if constexpr (requires { q.consumer_handle(i); }) {
    return q.consumer_handle(i);
  } else {
    (void)i;
    return PassThroughHandle<Q>(q);
  }
}

// ---- Compile-time helpers -----------------------------------------------------------------
template <class... Ts>
struct TypeList {
  static constexpr std::size_t size = sizeof...(Ts);
};

// One TypeList of every list's types, in order.
template <class... Lists>
struct Concat;
template <>
struct Concat<> {
  using type = TypeList<>;
};
template <class... As>
struct Concat<TypeList<As...>> {
  using type = TypeList<As...>;
};
template <class... As, class... Bs, class... Rest>
struct Concat<TypeList<As...>, TypeList<Bs...>, Rest...> {
  using type = typename Concat<TypeList<As..., Bs...>, Rest...>::type;
};
template <class... Lists>
using ConcatT = typename Concat<Lists...>::type;

namespace detail {

// A string assembled at compile time, usable as a static constexpr std::string_view.
template <std::size_t N>
struct FixedString {
  std::array<char, N + 1> chars{};
  [[nodiscard]] constexpr std::string_view view() const { return {chars.data(), N}; }
};

constexpr std::size_t decimal_digits(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Joins names at compile time: JoinNames<a, b>::value is a + b, with static storage.
template <const std::string_view&... Parts>
struct JoinNames {
  static constexpr std::size_t length = (Parts.size() + ... + 0);
  static constexpr FixedString<length> storage = [] {
    FixedString<length> s{};
    std::size_t at = 0;
    (([&] {
       for (char c : Parts)
         s.chars[at++] = c;
     }()),
     ...);
    return s;
  }();
  static constexpr std::string_view value = storage.view();
};

// "prefix" followed by the decimal digits of V, with static storage.
template <const std::string_view& Prefix, std::uint64_t V>
struct NameWithNumber {
  static constexpr std::size_t length = Prefix.size() + decimal_digits(V);
  static constexpr FixedString<length> storage = [] {
    FixedString<length> s{};
    std::size_t at = 0;
    for (char c : Prefix)
      s.chars[at++] = c;
    std::uint64_t v = V;
    for (std::size_t i = length; i > Prefix.size(); --i) {
      s.chars[i - 1] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    return s;
  }();
  static constexpr std::string_view value = storage.view();
};

// Rounds up to a power of two (n >= 1).
constexpr std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

}  // namespace detail
}  // namespace qb
