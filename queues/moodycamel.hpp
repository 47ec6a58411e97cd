// moodycamel: moodycamel::ConcurrentQueue (Debian's libconcurrentqueue-dev), used through a
// producer token and a consumer token per thread (the handles).
//
// Source: C. Desrochers, "A Fast General Purpose Lock-Free Queue for C++" (2014) and the
//   library's design notes: one sub-queue of blocks per producer; consumers pick sub-queues.
// Progress: lock-free (its own words: "lock-free", with bounded-ish spinning on block reuse).
// Ordering: per-producer FIFO only: items from one producer leave in order, but there is no
//   order between producers (a consumer drains one sub-queue while another fills).
// Bound: approximate. Bounded mode preallocates capacity/32 blocks of 32 slots and pushes with
//   try_enqueue, which fails rather than allocate; blocks stay with the producer that took
//   them, so when try_enqueue fails while size_approx() < capacity the adapter lets this
//   producer allocate a block (see enqueue()). Items held stay within about capacity + one
//   block per producer. capacity == qb::unbounded uses enqueue, which allocates as the backlog
//   grows.
// Close: none of its own; the wait-strategy wrapper provides it (try-only base).
#pragma once

#include <concurrentqueue/concurrentqueue.h>
#include <algorithm>
#include <cstddef>
#include <string_view>

#include "concept.hpp"

namespace qb {

inline constexpr std::string_view moodycamel_name = "moodycamel";
inline constexpr std::string_view moodycamel_summary =
    "moodycamel::ConcurrentQueue (per-producer block queues) with tokens";

template <class T>
class Moodycamel {
  using Queue = moodycamel::ConcurrentQueue<T>;

 public:
  using value_type = T;
  static constexpr std::string_view name = moodycamel_name;
  static constexpr std::string_view summary = moodycamel_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::per_producer_fifo,
                                      .bound = Bound::approximate,
                                      .progress = Progress::lock_free,
                                      .allows_unbounded = true};

  explicit Moodycamel(const QueueOptions& o)
      : capacity_(o.capacity),
        q_(o.capacity == unbounded
               ? Queue(6 * Queue::BLOCK_SIZE, std::max<std::size_t>(1, o.producers),
                       kImplicitProducers)
               : Queue(o.capacity)) {}
  Moodycamel(const Moodycamel&) = delete;
  Moodycamel& operator=(const Moodycamel&) = delete;

  class ProducerHandle {
   public:
    using value_type = T;
    explicit ProducerHandle(Moodycamel& q) : q_(&q), token_(q.q_) {}
    QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) { return q_->enqueue(v, token_); }

   private:
    Moodycamel* q_;
    moodycamel::ProducerToken token_;
  };

  class ConsumerHandle {
   public:
    using value_type = T;
    explicit ConsumerHandle(Moodycamel& q) : q_(&q), token_(q.q_) {}
    QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) { return q_->q_.try_dequeue(token_, out); }

   private:
    Moodycamel* q_;
    moodycamel::ConsumerToken token_;
  };

  ProducerHandle producer_handle(std::size_t) { return ProducerHandle(*this); }
  ConsumerHandle consumer_handle(std::size_t) { return ConsumerHandle(*this); }

  // Without a token: the library's implicit (thread-local) producer.
  QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const T& v) { return enqueue(v); }
  QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(T& out) { return q_.try_dequeue(out); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t approx_size() const noexcept { return q_.size_approx(); }

 private:
  // Bounded: try_enqueue uses the preallocated blocks. When it fails although the queue holds
  // fewer than capacity items, the free blocks sit with other producers (explicit producers
  // never return blocks to the shared pool, so a producer that starts late would otherwise
  // starve for ever); then enqueue allocates a block for this producer. size_approx() walks
  // every producer, so it is read only on this failure path, out of line. The rest is inlined
  // wherever it is called: left to GCC, the harness's flood producer called it once per item
  // (its bare reference did not).
  template <class... Token>
  QB_ALWAYS_INLINE bool enqueue(const T& v, Token&... token) {
    if (capacity_ == unbounded) return q_.enqueue(token..., v);
    if (q_.try_enqueue(token..., v)) [[likely]]
      return true;
    return enqueue_beyond_preallocated(v, token...);
  }
  template <class... Token>
  [[gnu::noinline]] bool enqueue_beyond_preallocated(const T& v, Token&... token) {
    return q_.size_approx() < capacity_ && q_.enqueue(token..., v);
  }

  // Threads that push without a token each get an implicit producer with its own blocks.
  static constexpr std::size_t kImplicitProducers = 4;
  std::size_t capacity_;
  Queue q_;
};

}  // namespace qb
