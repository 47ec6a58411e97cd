// sharded: actor-style mailboxes. Sharded<Inner> holds one Inner queue (a "mailbox") per
// consumer; every push is routed by the item's key to mailbox key % N, and consumer handle i
// pops mailbox i only: each consumer is an actor that owns its mailbox, and one key is always
// served by the same consumer (state per key needs no lock).
//
// Source: the actor model's mailboxes (one queue per actor), with key-affinity routing as in
//   Akka Cluster Sharding and Orleans grains (an entity id always reaches the same actor) or
//   Kafka partitions (a record's key picks the partition, one consumer per partition). Written
//   for qbench; no lock-free algorithm of its own: every hand-off is the inner queue's.
// Key: qb::shard_key_of(v): an ADL `shard_key(v)` when the item type provides one (declared in
//   the item's namespace), else FNV-1a 64 over the object's bytes. Mailbox = key % N, not hashed
//   again: keys 0..K-1 spread evenly when K is a multiple of N (within one item per mailbox when
//   not); a key stream that is not spread (only even keys, N = 2) loads the mailboxes unevenly,
//   as a skewed Kafka partitioner does.
// Ordering: per key (Order::per_key). Items of one producer with the same key go to one
//   mailbox, whose inner queue is FIFO or per-producer FIFO, so they leave in push order; more
//   strongly, a consumer handle sees a producer's items that were routed to its mailbox in push
//   order. Across mailboxes, and for the handle-less pops (which scan every mailbox), no order.
// Bound: approximate. Each mailbox holds max(1, ceil(capacity / N)) items, as exactly as the
//   inner queue does, but the total is not exact: one mailbox can be full while another is
//   empty, and capacity() (the sum) can exceed the capacity asked for by up to N - 1.
//   qb::unbounded stays unbounded (where the inner queue allows it).
// Progress: that of the inner queue.
// Close: idempotent and noexcept; sets the closed flag, then closes every mailbox (each wakes
//   its own waiters). Pushes then return closed (a push racing with close() may still land in a
//   mailbox not yet closed: it reported ok and is drained like any other). Consumer handle i
//   drains mailbox i and returns closed once it is empty; the handle-less pop returns closed
//   once every mailbox is closed and drained.
// Threads: consumer handle i belongs to one thread at a time (it is mailbox i's only consumer,
//   and the inner queue is built for one). Producer handles, the pushes of consumer handles
//   (fork/join: a consumer may push work to any mailbox) and the handle-less operations may be
//   used from any thread.
// The handle-less blocking pop polls: it scans the mailboxes, then sleeps 20 us, doubling up to
//   320 us, until an item, close or the deadline. An actor is addressed through its own
//   mailbox; waiting on N queues at once would need a shared event that every push signals, a
//   cost on the hot path paid only for this side path. Worker loops use the consumer handles,
//   whose blocking pop is the inner queue's own.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "concept.hpp"
#include "detail/spin.hpp"
#include "split_cv.hpp"

namespace qb {

namespace detail {
inline constexpr std::uint64_t fnv1a_offset = 14695981039346656037ULL;
inline constexpr std::uint64_t fnv1a_prime = 1099511628211ULL;
}  // namespace detail

// The routing key of an item for qb::Sharded. Customization point: a function
// `std::uint64_t shard_key(const T&)` that argument-dependent lookup finds (declare it in T's
// namespace). Otherwise FNV-1a 64 over the object's bytes; a type with padding should provide
// shard_key, since its padding bytes are unspecified and equal items could hash differently.
template <class T>
[[nodiscard]] std::uint64_t shard_key_of(const T& v) {
  if constexpr (requires { shard_key(v); }) {
    return static_cast<std::uint64_t>(shard_key(v));
  } else {
    static_assert(std::is_trivially_copyable_v<T>, "byte hashing needs a trivially copyable T");
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    std::uint64_t h = detail::fnv1a_offset;
    for (const unsigned char b : bytes) {
      h ^= b;
      h *= detail::fnv1a_prime;
    }
    return h;
  }
}

inline constexpr std::string_view sharded_prefix = "sharded:";
inline constexpr std::string_view sharded_summary_head = "N mailboxes of ";
inline constexpr std::string_view sharded_summary_tail =
    ", one per consumer, routed by key (actor style)";

template <class Inner>
class Sharded {
  static_assert(ConcurrentQueue<Inner>, "a mailbox is a qb::ConcurrentQueue");
  static_assert(Inner::traits.order == Order::fifo ||
                    Inner::traits.order == Order::per_producer_fifo,
                "per-key order needs FIFO (or per-producer FIFO) mailboxes");

  using InnerProducer = decltype(qb::producer_handle(std::declval<Inner&>(), std::size_t{}));
  using InnerConsumer = decltype(qb::consumer_handle(std::declval<Inner&>(), std::size_t{}));

  // One mailbox per cache-line-aligned allocation: no two mailboxes share a line.
  struct alignas(detail::cache_line) Mailbox {
    explicit Mailbox(const QueueOptions& o) : queue(o) {}
    Inner queue;
  };

 public:
  using value_type = typename Inner::value_type;
  using inner_type = Inner;
  static constexpr std::string_view inner_name = Inner::name;
  static constexpr std::string_view name = detail::JoinNames<sharded_prefix, inner_name>::value;
  static constexpr std::string_view summary =
      detail::JoinNames<sharded_summary_head, inner_name, sharded_summary_tail>::value;
  static constexpr QueueTraits traits{
      .summary = summary,
      .order = Order::per_key,
      .bound = Bound::approximate,
      .progress = Inner::traits.progress,
      .max_producers = Inner::traits.max_producers,
      .max_consumers = 0,
      .can_stall = Inner::traits.can_stall,
      .allows_unbounded = Inner::traits.allows_unbounded,
  };

  // Mailbox i gets max(1, ceil(capacity / N)) slots; its producers are the producer handles
  // plus the N consumer handles (which may push too); its one consumer is consumer handle i.
  explicit Sharded(const QueueOptions& o)
      : n_(std::max<std::size_t>(1, o.consumers)),
        producers_(o.producers),
        boxes_(std::make_unique<std::unique_ptr<Mailbox>[]>(n_)) {
    const QueueOptions inner{
        .capacity = o.capacity == unbounded
                        ? unbounded
                        : std::max<std::size_t>(1, o.capacity / n_ + (o.capacity % n_ != 0)),
        .producers = o.producers + n_,
        .consumers = 1};
    for (std::size_t i = 0; i < n_; ++i)
      boxes_[i] = std::make_unique<Mailbox>(inner);
  }
  Sharded(const Sharded&) = delete;
  Sharded& operator=(const Sharded&) = delete;

 private:
  // One inner producer handle per mailbox, made once with the handle; a push picks by key.
  class Router {
   public:
    Router(Sharded& q, std::size_t producer) : q_(&q) {
      to_.reserve(q.n_);
      for (std::size_t j = 0; j < q.n_; ++j)
        to_.push_back(qb::producer_handle(q.mailbox(j), producer));
    }
    [[nodiscard]] bool try_push(const value_type& v) { return to_[q_->mailbox_of(v)].try_push(v); }
    QueueStatus push(const value_type& v, std::chrono::nanoseconds t) {
      return to_[q_->mailbox_of(v)].push(v, t);
    }
    [[nodiscard]] Sharded& queue() const noexcept { return *q_; }

   private:
    Sharded* q_;
    std::vector<InnerProducer> to_;
  };

 public:
  // Pushes route by key; pops are the handle-less pops (scan every mailbox). Any thread.
  class ProducerHandle {
   public:
    using value_type = typename Inner::value_type;
    ProducerHandle(Sharded& q, std::size_t i) : to_(q, i) {}
    [[nodiscard]] bool try_push(const value_type& v) { return to_.try_push(v); }
    QueueStatus push(const value_type& v, std::chrono::nanoseconds t) { return to_.push(v, t); }
    [[nodiscard]] bool try_pop(value_type& out) { return to_.queue().try_pop(out); }
    QueueStatus pop(value_type& out, std::chrono::nanoseconds t) { return to_.queue().pop(out, t); }

   private:
    Router to_;
  };

  // The actor of mailbox i: pops mailbox i only (the inner queue's own blocking pop); pushes
  // route by key like a producer's. One thread at a time.
  class ConsumerHandle {
   public:
    using value_type = typename Inner::value_type;
    ConsumerHandle(Sharded& q, std::size_t i)
        : from_(qb::consumer_handle(q.mailbox(i), 0)), to_(q, q.producers_ + i), self_(i) {}
    [[nodiscard]] bool try_pop(value_type& out) { return from_.try_pop(out); }
    QueueStatus pop(value_type& out, std::chrono::nanoseconds t) { return from_.pop(out, t); }
    [[nodiscard]] bool try_push(const value_type& v) { return to_.try_push(v); }
    QueueStatus push(const value_type& v, std::chrono::nanoseconds t) { return to_.push(v, t); }
    [[nodiscard]] std::size_t mailbox() const noexcept { return self_; }

   private:
    InnerConsumer from_;
    Router to_;
    std::size_t self_;
  };

  [[nodiscard]] ProducerHandle producer_handle(std::size_t i) { return ProducerHandle(*this, i); }
  // Throws std::out_of_range for i >= N: mailbox i has exactly one consumer.
  [[nodiscard]] ConsumerHandle consumer_handle(std::size_t i) {
    if (i >= n_) throw std::out_of_range("Sharded::consumer_handle: no such mailbox");
    return ConsumerHandle(*this, i);
  }

  // ---- Handle-less operations. Any thread. ----
  [[nodiscard]] bool try_push(const value_type& v) { return mailbox(mailbox_of(v)).try_push(v); }
  QueueStatus push(const value_type& v, std::chrono::nanoseconds t) {
    return mailbox(mailbox_of(v)).push(v, t);
  }

  // One sweep over the mailboxes, from a rotating start so that pollers spread out.
  [[nodiscard]] bool try_pop(value_type& out) {
    // relaxed: only spreads the sweeps' starting points; no data is published through it.
    const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed) % n_;
    for (std::size_t k = 0; k < n_; ++k) {
      const std::size_t j = start + k < n_ ? start + k : start + k - n_;
      if (mailbox(j).try_pop(out)) return true;
    }
    return false;
  }

  // Polls (see the header comment): sweep, then sleep 20 us doubling up to 320 us.
  QueueStatus pop(value_type& out, std::chrono::nanoseconds timeout) {
    if (try_pop(out)) return QueueStatus::ok;
    const detail::Deadline deadline(timeout);
    std::chrono::nanoseconds nap = first_nap;
    for (;;) {
      if (closed()) return drain_closed(out, deadline);
      if (deadline.expired()) return QueueStatus::timeout;
      std::this_thread::sleep_for(std::min(nap, deadline.remaining()));
      nap = std::min(nap * 2, last_nap);
      if (try_pop(out)) return QueueStatus::ok;
    }
  }

  void close() noexcept {
    closed_.store(true);  // seq_cst
    for (std::size_t i = 0; i < n_; ++i)
      mailbox(i).close();
  }
  [[nodiscard]] bool closed() const noexcept { return closed_.load(); }

  [[nodiscard]] std::size_t capacity() const noexcept {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t c = mailbox(i).capacity();
      if (c == unbounded || c > unbounded - 1 - sum) return unbounded;
      sum += c;
    }
    return sum;
  }
  // Sum over the mailboxes; qb::size_unknown if a mailbox keeps no count.
  [[nodiscard]] std::size_t approx_size() const noexcept {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t s = mailbox(i).approx_size();
      if (s == size_unknown) return size_unknown;
      sum += s;
    }
    return sum;
  }

  // The mailboxes' wakeup counts, summed.
  [[nodiscard]] WaitStats stats() const requires HasWaitStats<Inner> {
    WaitStats sum;
    for (std::size_t i = 0; i < n_; ++i) {
      const WaitStats s = mailbox(i).stats();
      sum.wakeups += s.wakeups;
      sum.wasted_wakeups += s.wasted_wakeups;
      sum.notifies += s.notifies;
    }
    return sum;
  }

  // N, and the mailbox (= consumer handle) an item is routed to.
  [[nodiscard]] std::size_t mailboxes() const noexcept { return n_; }
  [[nodiscard]] std::size_t mailbox_of(const value_type& v) const {
    return static_cast<std::size_t>(shard_key_of(v) % n_);
  }

 private:
  static constexpr std::chrono::nanoseconds first_nap = std::chrono::microseconds(20);
  static constexpr std::chrono::nanoseconds last_nap = std::chrono::microseconds(320);

  [[nodiscard]] Inner& mailbox(std::size_t i) noexcept { return boxes_[i]->queue; }
  [[nodiscard]] const Inner& mailbox(std::size_t i) const noexcept { return boxes_[i]->queue; }

  // The closed flag is set. Each mailbox's own zero-timeout pop returns closed only once that
  // mailbox is closed and drained (exactly so for lock-free inner queues too: their close gate
  // waits for pushes in flight), and nothing enters a closed mailbox afterwards. A mailbox that
  // close() has not reached yet returns timeout: look again.
  QueueStatus drain_closed(value_type& out, const detail::Deadline& deadline) {
    for (;;) {
      bool all_closed = true;
      for (std::size_t i = 0; i < n_; ++i) {
        const QueueStatus st = mailbox(i).pop(out, std::chrono::nanoseconds{0});
        if (st == QueueStatus::ok) return QueueStatus::ok;
        all_closed = all_closed && st == QueueStatus::closed;
      }
      if (all_closed) return QueueStatus::closed;
      if (deadline.expired()) return QueueStatus::timeout;
      std::this_thread::yield();  // close() is still closing mailboxes
    }
  }

  const std::size_t n_;
  const std::size_t producers_;
  std::unique_ptr<std::unique_ptr<Mailbox>[]> boxes_;
  std::atomic<bool> closed_{false};
  alignas(detail::cache_line) std::atomic<std::size_t> next_{0};  // handle-less sweep start
};

static_assert(ConcurrentQueue<Sharded<SplitCv<detail::SplitCvProbe>>>);
static_assert(HasWaitStats<Sharded<SplitCv<detail::SplitCvProbe>>>);

}  // namespace qb
