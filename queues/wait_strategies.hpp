// Wait strategies: how a thread waits when a try-only queue is full or empty. `Waiting<Base, S>`
// turns any qb::TryQueue into a qb::ConcurrentQueue registered as "<base>+<strategy>":
//
//   spin      busy-wait: retry with a pause instruction. Lowest latency while a core is free;
//             burns a core while idle and collapses when threads outnumber cores.
//   yield     retry after sched_yield(). Burns CPU like spin, but lets a waiting thread run.
//   sleep:N   sleep-polling: retry every N microseconds. Cheap while idle; adds up to N us of
//             latency to every item that arrives while the consumer sleeps.
//   park      spin briefly, then sleep on a futex (qb::detail::EventCount) until the other side
//             signals; no lost wakeup, no CPU while idle, a fence and a load per operation.
//
// Close (for every strategy): the wrapper owns the closed state. A qb::detail::CloseGate makes
// it exact for lock-free bases: no push reported ok is ever left behind by a consumer that
// reported closed (see close_gate.hpp). Pops drain, then return closed. A producer handle taken
// with CloseRace::after_pushes skips the gate (its owner closes only after its last push).
// Progress, ordering and bound are those of the base (traits are copied); waiting adds blocking.
#pragma once

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

#include "concept.hpp"
#include "detail/close_gate.hpp"
#include "detail/event_count.hpp"
#include "detail/spin.hpp"

namespace qb {

enum class WaitKind { spin, yield, sleep, park };

inline constexpr std::string_view spin_name = "spin";
inline constexpr std::string_view yield_name = "yield";
inline constexpr std::string_view sleep_prefix = "sleep:";
inline constexpr std::string_view park_name = "park";
inline constexpr std::string_view spin_summary = "busy-wait (pause)";
inline constexpr std::string_view yield_summary = "retry after sched_yield";
inline constexpr std::string_view sleep_summary = "sleep-polling";
inline constexpr std::string_view park_summary = "spin briefly, then futex sleep until signalled";

struct Spin {
  static constexpr WaitKind kind = WaitKind::spin;
  static constexpr std::string_view name = spin_name;
  static constexpr std::string_view summary = spin_summary;
};

struct Yield {
  static constexpr WaitKind kind = WaitKind::yield;
  static constexpr std::string_view name = yield_name;
  static constexpr std::string_view summary = yield_summary;
};

template <std::uint32_t Micros>
struct SleepPoll {
  static_assert(Micros > 0, "a sleep-poll interval of zero is spin with syscalls");
  static constexpr WaitKind kind = WaitKind::sleep;
  static constexpr std::chrono::microseconds period{Micros};
  static constexpr std::string_view name = detail::NameWithNumber<sleep_prefix, Micros>::value;
  static constexpr std::string_view summary = sleep_summary;
};

// Spins (pause) this many times before sleeping: about 5-15 us on current x86, the order of a
// futex wake-up, so a hand-off that arrives within that window costs no system call.
template <std::uint32_t Spins = 128>
struct Park {
  static constexpr WaitKind kind = WaitKind::park;
  static constexpr std::uint32_t spins = Spins;
  static constexpr std::string_view name = park_name;
  static constexpr std::string_view summary = park_summary;
};

namespace detail {
inline constexpr std::string_view plus = "+";
inline constexpr std::string_view summary_sep = "; waits by ";
}  // namespace detail

template <TryQueue Base, class Strategy>
class Waiting {
  enum class Attempt { ok, fail, closed };
  static constexpr bool parks = Strategy::kind == WaitKind::park;

  using BaseProducer = decltype(qb::producer_handle(std::declval<Base&>(), std::size_t{}));
  using BaseConsumer = decltype(qb::consumer_handle(std::declval<Base&>(), std::size_t{}));

 public:
  using value_type = typename Base::value_type;
  using base_type = Base;
  using strategy = Strategy;
  static constexpr std::string_view name =
      detail::JoinNames<Base::name, detail::plus, Strategy::name>::value;
  static constexpr std::string_view summary =
      detail::JoinNames<Base::summary, detail::summary_sep, Strategy::summary>::value;
  static constexpr QueueTraits traits = [] {
    QueueTraits t = Base::traits;
    t.summary = summary;
    return t;
  }();

  explicit Waiting(const QueueOptions& o)
      : base_(o), gate_(o.producers), bounded_(base_.capacity() != unbounded) {}
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;

  class ProducerHandle {
   public:
    using value_type = typename Base::value_type;
    ProducerHandle(Waiting& q, std::size_t i, CloseRace race)
        : q_(&q),
          h_(qb::producer_handle(q.base_, i)),
          slot_(race == CloseRace::after_pushes ? detail::CloseGate::no_slot
                                                : q.gate_.slot_for_handle(i)) {}
    QB_ALWAYS_INLINE [[nodiscard]] bool try_push(const value_type& v) {
      return q_->attempt_push(h_, slot_, v) == Attempt::ok;
    }
    QueueStatus push(const value_type& v, std::chrono::nanoseconds t) {
      return q_->push_via(h_, slot_, v, t);
    }

   private:
    Waiting* q_;
    BaseProducer h_;
    std::size_t slot_;
  };

  class ConsumerHandle {
   public:
    using value_type = typename Base::value_type;
    ConsumerHandle(Waiting& q, std::size_t i) : q_(&q), h_(qb::consumer_handle(q.base_, i)) {}
    QB_ALWAYS_INLINE [[nodiscard]] bool try_pop(value_type& v) {
      return q_->attempt_pop(h_, v) == Attempt::ok;
    }
    QueueStatus pop(value_type& v, std::chrono::nanoseconds t) { return q_->pop_via(h_, v, t); }

   private:
    Waiting* q_;
    BaseConsumer h_;
  };

  ProducerHandle producer_handle(std::size_t i, CloseRace race = CloseRace::may_race) {
    return ProducerHandle(*this, i, race);
  }
  ConsumerHandle consumer_handle(std::size_t i) { return ConsumerHandle(*this, i); }

  // Without a handle: the base's own thread-agnostic operations and the gate's shared slot.
  [[nodiscard]] bool try_push(const value_type& v) {
    return attempt_push(base_, detail::CloseGate::anonymous_slot, v) == Attempt::ok;
  }
  [[nodiscard]] bool try_pop(value_type& v) { return attempt_pop(base_, v) == Attempt::ok; }
  QueueStatus push(const value_type& v, std::chrono::nanoseconds t) {
    return push_via(base_, detail::CloseGate::anonymous_slot, v, t);
  }
  QueueStatus pop(value_type& v, std::chrono::nanoseconds t) { return pop_via(base_, v, t); }

  void close() noexcept {
    gate_.close();
    if constexpr (parks) {
      not_empty_.notify_all();
      not_full_.notify_all();
    }
  }
  [[nodiscard]] bool closed() const noexcept { return gate_.closed(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return base_.capacity(); }
  [[nodiscard]] std::size_t approx_size() const noexcept { return base_.approx_size(); }

  // park only: futex sleeps that ended by a signal, and those of them that found nothing.
  [[nodiscard]] WaitStats stats() const noexcept requires parks {
    // relaxed: statistics read after the threads are joined.
    return WaitStats{.wakeups = wakeups_.load(std::memory_order_relaxed),
                     .wasted_wakeups = wasted_.load(std::memory_order_relaxed),
                     .notifies = not_empty_.wakes() + not_full_.wakes()};
  }

 private:
  template <class H>
  QB_ALWAYS_INLINE Attempt attempt_push(H& h, std::size_t slot, const value_type& v) {
    if (!gate_.enter(slot)) return Attempt::closed;
    const bool ok = h.try_push(v);
    gate_.leave(slot);
    if (!ok) return Attempt::fail;
    if constexpr (parks) not_empty_.notify_one();
    return Attempt::ok;
  }

  template <class H>
  QB_ALWAYS_INLINE Attempt attempt_pop(H& h, value_type& v) {
    if (!h.try_pop(v)) {
      if (!gate_.closed()) return Attempt::fail;
      // Closed: wait for pushes that got past the flag, then look once more.
      gate_.wait_for_pushers();
      if (!h.try_pop(v)) return Attempt::closed;
    }
    if constexpr (parks) {
      if (bounded_) not_full_.notify_one();
    }
    return Attempt::ok;
  }

  template <class H>
  QueueStatus push_via(H& h, std::size_t slot, const value_type& v, std::chrono::nanoseconds t) {
    return wait_loop([&] { return attempt_push(h, slot, v); }, not_full_, t);
  }

  template <class H>
  QueueStatus pop_via(H& h, value_type& v, std::chrono::nanoseconds t) {
    return wait_loop([&] { return attempt_pop(h, v); }, not_empty_, t);
  }

  static QueueStatus status_of(Attempt a) noexcept {
    return a == Attempt::ok ? QueueStatus::ok : QueueStatus::closed;
  }

  template <class Try>
  QueueStatus wait_loop(Try&& attempt, detail::EventCount& ev, std::chrono::nanoseconds t) {
    Attempt a = attempt();
    if (a != Attempt::fail) return status_of(a);
    if (t.count() <= 0) return QueueStatus::timeout;
    const detail::Deadline dl(t);
    for (std::uint32_t i = 1;; ++i) {
      if constexpr (Strategy::kind == WaitKind::spin) {
        detail::cpu_relax();
        // Reading the clock costs ~20 ns; every 64 pauses keeps it off the retry path.
        if ((i & 63) == 0 && dl.expired()) return final_attempt(attempt);
      } else if constexpr (Strategy::kind == WaitKind::yield) {
        sched_yield();
        if (dl.expired()) return final_attempt(attempt);
      } else if constexpr (Strategy::kind == WaitKind::sleep) {
        const auto left = dl.remaining();
        if (left.count() == 0) return final_attempt(attempt);
        std::this_thread::sleep_for(left < Strategy::period ? left : Strategy::period);
      } else {
        if (i <= Strategy::spins) {
          detail::cpu_relax();
        } else {
          const auto key = ev.prepare_wait();
          a = attempt();
          if (a != Attempt::fail) {
            ev.cancel_wait();
            return status_of(a);
          }
          if (!ev.wait(key, dl)) return final_attempt(attempt);
          // relaxed: statistics only.
          wakeups_.fetch_add(1, std::memory_order_relaxed);
          a = attempt();
          if (a != Attempt::fail) return status_of(a);
          wasted_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
      }
      a = attempt();
      if (a != Attempt::fail) return status_of(a);
    }
  }

  template <class Try>
  static QueueStatus final_attempt(Try& attempt) {
    const Attempt a = attempt();
    return a == Attempt::fail ? QueueStatus::timeout : status_of(a);
  }

  Base base_;
  detail::CloseGate gate_;
  bool bounded_;
  detail::EventCount not_empty_;  // consumers sleep here (park)
  detail::EventCount not_full_;   // producers sleep here (park, bounded bases)
  alignas(detail::cache_line) std::atomic<std::uint64_t> wakeups_{0};
  std::atomic<std::uint64_t> wasted_{0};
};

}  // namespace qb
