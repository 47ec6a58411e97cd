// tbb_bounded: oneTBB's tbb::concurrent_bounded_queue (Debian's libtbb-dev, oneTBB 2021.8), the
// blocking bounded queue TBB users reach for, used through its own blocking push and pop.
//
// Source: Intel TBB / oneTBB (include/oneapi/tbb/concurrent_queue.h and
//   detail/_concurrent_queue_base.h). A push takes a ticket from tail_counter, a pop from
//   head_counter (one fetch_add each); ticket k lives in micro-queue 3k mod 8, a list of pages
//   (8 items of 17-32 bytes per page) that tbb::cache_aligned_allocator (libtbbmalloc when
//   installed) allocates as the tail advances and frees as the head leaves them: even a bounded
//   queue allocates as it runs. A full push or an empty pop sleeps in a concurrent_monitor
//   inside libtbb (a waiter list under a mutex, a futex-backed semaphore per thread); every
//   push and pop calls into libtbb to notify the other side's monitor (a fence and a load when
//   nobody sleeps).
// Progress: blocking. Besides the sleeps, a push spins until the previous ticket of its
//   micro-queue has been pushed, and a pop until the previous pop of it has finished: a thread
//   preempted in mid-operation holds up the others of its micro-queue.
// Ordering: FIFO by ticket.
// Bound: exact: set_capacity(capacity); a push whose ticket lies capacity or more past the head
//   waits, try_push fails. Tickets taken by waiting pushers count, so try_push can fail while
//   pushers wait although fewer than capacity items are held. capacity == qb::unbounded keeps
//   the library's default (no bound).
// Close: TBB has abort(), not close. abort() wakes the push and pop calls blocked at that moment
//   with tbb::user_abort and does nothing to later calls (a pop on an empty queue after abort()
//   sleeps for ever). Worse, an aborted pop hands its ticket back with head_counter--, which is
//   only right if no later ticket was taken meanwhile: aborting a pop whose item is being
//   pushed while another pop took the next ticket strands that item and leaves the next pop of
//   that ticket spinning for ever. So this adapter never aborts a pop:
//   1. Threads announce themselves in a count (one cache line per handle) before any TBB push
//      (blocking or try), and before TBB's blocking pop, then check the closed flag (Dekker).
//   2. close() sets the flag, then wakes the pops inside TBB with pills (items travel in an
//      envelope with a pill bit), pushing one only while the queue holds fewer items than there
//      are pops inside. Pops take tickets in order, so a pill goes to the oldest waiting pop; a
//      pill that does not fit means every pop inside has an item coming.
//   3. Once no pop is inside, close() calls abort() until no push is inside: blocked pushes get
//      user_abort and report closed (TBB turns their ticket into an invalid entry that pops
//      skip); pushes that got room report ok.
//   A pop that sees the flag (or a pill) waits for the pushes still inside, then drains with
//   try_pop, dropping pills, and reports closed once empty: no push that reported ok is lost.
//   Later pushes report closed. Idempotent.
// Waits: untimed (qb::forever) pushes and pops sleep in TBB. TBB has no timed wait, so a timed
//   push or pop polls try_push / try_pop: 16 sched_yield()s, then sleeps of up to 50 us. A
//   timed wait adds up to ~50 us (plus timer slack) to the item that ends it, and wakes its
//   thread ~20,000 times a second while it waits.
// Cost of the adapter: per push and per untimed pop, an uncontended locked RMW pair on the
//   handle's own cache line (step 1); the envelope adds a bool (a 24-byte item takes 32 bytes:
//   still 8 per page).
#pragma once

#include <oneapi/tbb/concurrent_queue.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <thread>
#include <type_traits>

#include "concept.hpp"
#include "detail/spin.hpp"

namespace qb {

inline constexpr std::string_view tbb_bounded_name = "tbb_bounded";
inline constexpr std::string_view tbb_bounded_summary =
    "tbb::concurrent_bounded_queue (oneTBB ticket queue), its own blocking push/pop";

template <class T>
class TbbBounded {
  static_assert(std::is_trivially_copyable_v<T>, "queue items are trivially copyable");

  struct Envelope {
    T value;
    bool pill;  // set only by close(): wakes one pop, carries no item
  };
  using Queue = tbb::concurrent_bounded_queue<Envelope>;

  // How many threads are inside one kind of TBB call: one counter per handle, each on its own
  // cache line; slot 0 counts the calls made without a handle.
  class Inside {
   public:
    explicit Inside(std::size_t handles)
        : n_(std::max<std::size_t>(1, handles) + 1), slots_(std::make_unique<Slot[]>(n_)) {}
    [[nodiscard]] std::size_t slot_for_handle(std::size_t i) const noexcept {
      return 1 + i % (n_ - 1);
    }
    // Announces a call, then checks the flag; false (nothing announced) when it is set.
    [[nodiscard]] bool enter(std::size_t s, const std::atomic<bool>& closed) noexcept {
      // seq_cst, with the flag load below and close()'s store then total(): the Dekker pair;
      // either this call sees the flag or close() counts this call.
      slots_[s].n.fetch_add(1, std::memory_order_seq_cst);
      if (closed.load(std::memory_order_seq_cst)) {
        leave(s);
        return false;
      }
      return true;
    }
    void leave(std::size_t s) noexcept {
      // release: whoever reads the count back to zero (total()) sees the call's effects.
      slots_[s].n.fetch_sub(1, std::memory_order_release);
    }
    [[nodiscard]] std::size_t total() const noexcept {
      std::size_t t = 0;
      // seq_cst: the other half of the Dekker pair in enter() (and an acquire for leave()).
      for (std::size_t s = 0; s < n_; ++s)
        t += slots_[s].n.load(std::memory_order_seq_cst);
      return t;
    }

   private:
    struct alignas(detail::cache_line) Slot {
      std::atomic<std::uint32_t> n{0};
    };
    std::size_t n_;
    std::unique_ptr<Slot[]> slots_;
  };

  // Leaves the count when the call returns or throws.
  class Announced {
   public:
    Announced(Inside& in, std::size_t slot) noexcept : in_(in), slot_(slot) {}
    ~Announced() { in_.leave(slot_); }
    Announced(const Announced&) = delete;
    Announced& operator=(const Announced&) = delete;

   private:
    Inside& in_;
    std::size_t slot_;
  };

  static constexpr std::size_t anonymous_slot = 0;

 public:
  using value_type = T;
  static constexpr std::string_view name = tbb_bounded_name;
  static constexpr std::string_view summary = tbb_bounded_summary;
  static constexpr QueueTraits traits{.summary = summary,
                                      .order = Order::fifo,
                                      .bound = Bound::exact,
                                      .progress = Progress::blocking,
                                      .allows_unbounded = true};

  explicit TbbBounded(const QueueOptions& o)
      : capacity_(o.capacity == 0 ? 1 : o.capacity), pushers_(o.producers), poppers_(o.consumers) {
    if (capacity_ != unbounded) {
      constexpr auto most = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
      q_.set_capacity(static_cast<std::ptrdiff_t>(std::min(capacity_, most)));
    }
  }
  TbbBounded(const TbbBounded&) = delete;
  TbbBounded& operator=(const TbbBounded&) = delete;

  class ProducerHandle {
   public:
    using value_type = T;
    ProducerHandle(TbbBounded& q, std::size_t i) : q_(&q), slot_(q.pushers_.slot_for_handle(i)) {}
    [[nodiscard]] bool try_push(const T& v) {
      return q_->attempt_push(slot_, v) == QueueStatus::ok;
    }
    QueueStatus push(const T& v, std::chrono::nanoseconds t) { return q_->push_in(slot_, v, t); }

   private:
    TbbBounded* q_;
    std::size_t slot_;
  };

  class ConsumerHandle {
   public:
    using value_type = T;
    ConsumerHandle(TbbBounded& q, std::size_t i) : q_(&q), slot_(q.poppers_.slot_for_handle(i)) {}
    [[nodiscard]] bool try_pop(T& out) { return q_->attempt_pop(out) == QueueStatus::ok; }
    QueueStatus pop(T& out, std::chrono::nanoseconds t) { return q_->pop_in(slot_, out, t); }

   private:
    TbbBounded* q_;
    std::size_t slot_;
  };

  ProducerHandle producer_handle(std::size_t i) { return ProducerHandle(*this, i); }
  ConsumerHandle consumer_handle(std::size_t i) { return ConsumerHandle(*this, i); }

  [[nodiscard]] bool try_push(const T& v) {
    return attempt_push(anonymous_slot, v) == QueueStatus::ok;
  }
  [[nodiscard]] bool try_pop(T& out) { return attempt_pop(out) == QueueStatus::ok; }
  QueueStatus push(const T& v, std::chrono::nanoseconds t) { return push_in(anonymous_slot, v, t); }
  QueueStatus pop(T& out, std::chrono::nanoseconds t) { return pop_in(anonymous_slot, out, t); }

  // See the header comment, steps 2 and 3.
  void close() noexcept {
    // seq_cst: the Dekker pair with Inside::enter().
    closed_.store(true, std::memory_order_seq_cst);
    for (;;) {
      const std::size_t inside = poppers_.total();
      if (inside == 0) break;
      if (q_.size() < static_cast<std::ptrdiff_t>(inside)) {
        Envelope pill{};
        pill.pill = true;
        (void)q_.try_push(pill);  // fails only when full: then every pop inside gets an item
      }
      std::this_thread::yield();
    }
    // No pop is inside TBB's blocking pop, and none can enter: abort() reaches only pushes.
    while (pushers_.total() != 0) {
      q_.abort();
      std::this_thread::yield();
    }
  }
  [[nodiscard]] bool closed() const noexcept {
    // acquire: a caller that sees the flag sees what preceded close().
    return closed_.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // tail - head - invalid entries (atomic loads; negative while pops wait): stale on return.
  // After close() it counts the pills left in the queue too.
  [[nodiscard]] std::size_t approx_size() const noexcept {
    const std::ptrdiff_t n = q_.size();
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }

 private:
  QueueStatus push_in(std::size_t slot, const T& v, std::chrono::nanoseconds t) {
    const detail::Deadline dl(t);
    if (!dl.forever()) return poll(dl, [&] { return attempt_push(slot, v); });
    if (!pushers_.enter(slot, closed_)) return QueueStatus::closed;
    Announced in(pushers_, slot);
    try {
      q_.push(Envelope{v, false});
    } catch (const tbb::user_abort&) {
      return QueueStatus::closed;  // only close() aborts; this item was not pushed
    }
    return QueueStatus::ok;
  }

  QueueStatus pop_in(std::size_t slot, T& out, std::chrono::nanoseconds t) {
    const detail::Deadline dl(t);
    if (!dl.forever()) return poll(dl, [&] { return attempt_pop(out); });
    if (!poppers_.enter(slot, closed_)) return drain(out);
    Envelope e{};  // initialised: GCC cannot see that try_pop / pop assign it
    {
      Announced in(poppers_, slot);
      try {
        q_.pop(e);
      } catch (const tbb::user_abort&) {
        e.pill = true;  // not reached: close() aborts only when no pop is inside
      }
    }
    if (e.pill) return drain(out);
    out = e.value;
    return QueueStatus::ok;
  }

  QueueStatus attempt_push(std::size_t slot, const T& v) {
    if (!pushers_.enter(slot, closed_)) return QueueStatus::closed;
    Announced in(pushers_, slot);
    return q_.try_push(Envelope{v, false}) ? QueueStatus::ok : QueueStatus::timeout;
  }

  QueueStatus attempt_pop(T& out) {
    if (take(out)) return QueueStatus::ok;
    // seq_cst: ordered after close()'s store, so drain() counts every push that got past it.
    if (!closed_.load(std::memory_order_seq_cst)) return QueueStatus::timeout;
    return drain(out);
  }

  // try_pop, dropping pills.
  bool take(T& out) {
    Envelope e{};  // initialised: GCC cannot see that try_pop / pop assign it
    while (q_.try_pop(e)) {
      if (!e.pill) {
        out = e.value;
        return true;
      }
    }
    return false;
  }

  // Closed: the pushes still inside TBB finish (or close() aborts them), then one more look.
  QueueStatus drain(T& out) {
    while (pushers_.total() != 0)
      std::this_thread::yield();
    return take(out) ? QueueStatus::ok : QueueStatus::closed;
  }

  // Timed waits: TBB has none, so poll (see the header comment for the cost).
  template <class Attempt>
  static QueueStatus poll(const detail::Deadline& dl, Attempt&& attempt) {
    QueueStatus s = attempt();
    for (std::uint32_t i = 0; s == QueueStatus::timeout && !dl.expired(); ++i) {
      if (i < kPollYields) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(dl.remaining(), kPollSleep));
      }
      s = attempt();
    }
    return s;
  }

  static constexpr std::uint32_t kPollYields = 16;
  static constexpr std::chrono::microseconds kPollSleep{50};

  const std::size_t capacity_;
  Queue q_;
  Inside pushers_;  // threads inside TBB's push or try_push
  Inside poppers_;  // threads inside TBB's blocking pop
  alignas(detail::cache_line) std::atomic<bool> closed_{false};
};

namespace detail {
struct TbbBoundedProbe {
  std::uint64_t a, b, c;
};
}  // namespace detail
static_assert(ConcurrentQueue<TbbBounded<detail::TbbBoundedProbe>>);

}  // namespace qb
