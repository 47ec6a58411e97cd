// The bare reference of a queue (`qbench bare`): the queue driven the way its authors' own
// benchmarks drive it, with nothing of the harness per item: no clock read, no shared counter, no
// close gate, no latency record. Every thread counts and sums what it pushed or popped; the sums
// are checked at the end. A harness figure is faithful when it comes close to this one (the
// fidelity that `qbench run --calibrate` prints).
//
// What is driven. A queue made of a try-only queue and a wait strategy (qb::Waiting<Base, S>) is
// measured as Base alone, through Base's try_push/try_pop from spinning threads: the strategy and
// the close gate are the harness's way of waiting, not the queue. So boost_spsc+spin and
// boost_spsc+park share one bare figure, boost_spsc's. Every other queue (the condition-variable
// queues, the sharded mailboxes, the work-stealing pool) is driven through its own blocking
// push/pop, and closed by the last producer to finish.
//
// Flood: P producers push for the duration as fast as the queue takes items; C consumers pop
// until every pushed item is consumed. Throughput is the items consumed over the time from the
// common start to the last consumer's exit. Each thread publishes its count every
// bare_publish_every items (a relaxed store to a line of its own) for the controller's watchdog,
// and an idle consumer publishes its exact count before it checks whether everything pushed has
// been consumed.
//
// Item sizes: the registry builds each queue's reference for every size of item_sizes
// (core/item.hpp: Payload<N>, N bytes with the id first, or Item at 24), so that `qbench bare
// --item-bytes 8` measures what a queue of task pointers does; the id is what is counted and
// summed.
//
// Ping-pong: thread A pushes an item into queue AB, thread B pops it and pushes it back into
// queue BA, A pops it and checks it is the one it sent. A times batches of 16 round trips (the
// clock read spread over the batch, as in qbench calibrate); p50/min/p99 are of the batch means.
//
// Never hangs: the run is under the shared controller (harness/controller.hpp); a queue that loses
// items stalls the consumers, the stall timeout aborts the run, and the verdict says what was lost.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/item.hpp"
#include "core/kinds.hpp"
#include "harness/affinity.hpp"
#include "harness/backoff.hpp"
#include "harness/controller.hpp"
#include "harness/system_info.hpp"
#include "harness/topology.hpp"
#include "queues/concept.hpp"
#include "results/histogram.hpp"

namespace qb {

// Each thread of a bare reference publishes its count every this many items (a power of two):
// for the watchdog, and for the flood's depth, which is therefore within this much per thread.
inline constexpr std::uint64_t bare_publish_every = 1024;
static_assert(std::has_single_bit(bare_publish_every));

struct BareConfig {
  WorkloadKind workload = WorkloadKind::flood;  // flood or pingpong
  std::size_t producers = 1;                    // flood only; ping-pong is always 1 x 1
  std::size_t consumers = 1;
  std::size_t capacity = 1024;
  std::chrono::nanoseconds duration = std::chrono::seconds(1);  // flood: how long producers push
  std::uint64_t round_trips = 100'000;                          // ping-pong: timed round trips
  bool pin = false;
  Placement placement = Placement::spread;  // where pinned threads go (harness/topology.hpp)
  std::chrono::nanoseconds stall_timeout = std::chrono::seconds(2);
  std::size_t item_bytes = sizeof(Item);  // what each push carries (item_sizes)
};

struct BareResult {
  std::string driven;  // what was driven: "try_push/try_pop of boost_spsc, spinning", ...
  std::uint64_t pushed = 0;
  std::uint64_t consumed = 0;  // flood: items; ping-pong: round trips completed
  double seconds = 0;
  double items_per_s = 0;                                 // flood
  double rtt_min_ns = 0, rtt_p50_ns = 0, rtt_p99_ns = 0;  // ping-pong, per round trip
  std::size_t item_bytes = 0;                             // what each push carried
  // Flood: the median over the controller's ticks of pushed - consumed, from the counters the
  // threads publish every bare_publish_every items (so within that per thread): full or empty, the
  // regime the reference ran in (results/run_result.hpp median_depth).
  std::uint64_t median_depth = 0;
  bool oversubscribed = false;
  std::string pinning;
  Verdict verdict = Verdict::ok;
  std::string detail;
};

namespace bare_detail {

// The queue a registered queue's bare reference drives, and how.
template <class Q>
struct Target {
  using type = Q;
  static constexpr bool try_ops = false;  // its own blocking push/pop
};
template <class Q>
requires requires {
  typename Q::base_type;
}
struct Target<Q> {
  using type = typename Q::base_type;
  static constexpr bool try_ops = true;  // the base's try_push/try_pop, spinning
};

inline std::uint32_t spin_limit_for(std::size_t threads) {
  return threads > online_cores() ? spin_limit_shared : spin_limit_pinned;
}

// One worker's counts: its own 128 bytes, written by it alone.
struct alignas(detail::false_sharing_block) Side {
  std::atomic<std::uint64_t> progress{0};  // relaxed: for the watchdog and the idle check
  std::atomic<bool> done{false};           // release, after count and sum
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  std::int64_t exit_ns = 0;
};

template <class B>
struct Flood {
  explicit Flood(const BareConfig& c)
      : queue(QueueOptions{
            .capacity = c.capacity, .producers = c.producers, .consumers = c.consumers}),
        producers(c.producers),
        consumers(c.consumers),
        producers_left(c.producers),
        start(c.producers + c.consumers),
        spin_limit(spin_limit_for(c.producers + c.consumers)) {}
  alignas(detail::false_sharing_block) B queue;  // blocks of its own (spin.hpp)
  alignas(detail::false_sharing_block) std::vector<Side> producers;
  std::vector<Side> consumers;
  std::atomic<std::size_t> producers_left;
  StartLine start;
  alignas(detail::false_sharing_block) std::atomic<bool> stop{false};
  std::uint32_t spin_limit;
  PinPlan pin;

  // Idle consumers only: has every item pushed been consumed (or more: duplicates)?
  [[nodiscard]] bool all_consumed() const noexcept {
    std::uint64_t pushed = 0, consumed = 0;
    for (const auto& p : producers) {
      // acquire: the producer's count is final and every push it counts is complete.
      if (!p.done.load(std::memory_order_acquire)) return false;
      pushed += p.count;
    }
    for (const auto& c : consumers)
      consumed += c.progress.load(std::memory_order_relaxed);  // a count, no data behind it
    return consumed >= pushed;
  }
};

// One push or pop the way the reference drives the queue: spinning on the try operation (false
// once the controller stopped the run), or the queue's own blocking call (false once closed).
// Always inlined, with the queue's operation in them: left to GCC, ring_spsc's and ring_mpmc's
// producers called put() once per item, with the item in memory, and their references read at a
// fraction of what the queues do (the harness figure up to 8x its "reference").
template <bool TryOps, class H, class V>
QB_ALWAYS_INLINE inline bool put(H& h, const V& item, Backoff& backoff) {
  if constexpr (TryOps) {
    backoff.reset();
    while (!h.try_push(item))
      if (!backoff.wait()) return false;
    return true;
  } else {
    return h.push(item, forever) == QueueStatus::ok;
  }
}
template <bool TryOps, class H, class V>
QB_ALWAYS_INLINE inline bool take(H& h, V& item, Backoff& backoff) {
  if constexpr (TryOps) {
    backoff.reset();
    while (!h.try_pop(item))
      if (!backoff.wait()) return false;
    return true;
  } else {
    return h.pop(item, forever) == QueueStatus::ok;
  }
}

template <class B, bool TryOps>
void flood_producer(Flood<B>& s, std::size_t i, std::int64_t duration_ns) {
  Side& me = s.producers[i];
  auto h = producer_handle(s.queue, i);
  const std::int64_t end = s.start.wait(cpu_of(s.pin.producer_cpu, i)) + duration_ns;
  Backoff backoff(s.spin_limit, s.stop);
  std::uint64_t seq = 0, sum = 0;
  typename B::value_type item{0, 0, 0};  // each push stamps its id into it (core/item.hpp)
  for (;; ++seq) {
    if ((seq & (bare_publish_every - 1)) == 0) {
      me.progress.store(seq, std::memory_order_relaxed);  // watchdog only
      if (now_ns() >= end || s.stop.load(std::memory_order_relaxed)) break;
    }
    // Keys spread over 2^16 values, so that sharded mailboxes spread the items over every shard.
    stamp(item, make_item_id(i, seq & (max_keys - 1), seq), 0, 0);
    if (!put<TryOps>(h, item, backoff)) break;
    sum += item.id;
  }
  me.count = seq;
  me.sum = sum;
  me.progress.store(seq, std::memory_order_relaxed);
  me.done.store(true, std::memory_order_release);
  // acq_rel: the last producer's close comes after every producer's pushes.
  if constexpr (!TryOps)
    if (s.producers_left.fetch_sub(1, std::memory_order_acq_rel) == 1) s.queue.close();
}

template <class B, bool TryOps>
void flood_consumer(Flood<B>& s, std::size_t i) {
  Side& me = s.consumers[i];
  auto h = consumer_handle(s.queue, i);
  s.start.wait(cpu_of(s.pin.consumer_cpu, i));
  Backoff backoff(s.spin_limit, s.stop);
  std::uint64_t n = 0, sum = 0;
  typename B::value_type item;
  if constexpr (TryOps) {
    for (;;) {
      if (h.try_pop(item)) {
        sum += item.id;
        if ((++n & (bare_publish_every - 1)) == 0) me.progress.store(n, std::memory_order_relaxed);
        backoff.reset();
        continue;
      }
      me.progress.store(n, std::memory_order_relaxed);  // exact before the check below
      if (s.all_consumed() || !backoff.wait()) break;
    }
  } else {
    while (h.pop(item, forever) == QueueStatus::ok) {
      sum += item.id;
      if ((++n & (bare_publish_every - 1)) == 0) me.progress.store(n, std::memory_order_relaxed);
    }
  }
  me.exit_ns = now_ns();
  me.count = n;
  me.sum = sum;
  me.progress.store(n, std::memory_order_relaxed);
  me.done.store(true, std::memory_order_release);
}

template <class B>
class FloodDriver final : public Driver {
 public:
  FloodDriver(Flood<B>& s, bool closes) : s_(s), closes_(closes) {}
  Published poll() override {
    Published p;
    bool producers_done = true, consumers_done = true;
    for (auto& x : s_.producers) {
      p.accepted += x.progress.load(std::memory_order_relaxed);
      producers_done &= x.done.load(std::memory_order_acquire);
    }
    for (auto& x : s_.consumers) {
      p.consumed += x.progress.load(std::memory_order_relaxed);
      consumers_done &= x.done.load(std::memory_order_acquire);
    }
    p.offered = p.accepted;
    p.expected = p.accepted;
    p.depth = p.owed();
    p.producers_done = producers_done;
    p.finished = producers_done && consumers_done;
    return p;
  }
  void shut_down(std::int64_t) override {}  // the consumers see the end for themselves
  void abort() override {
    s_.stop.store(true, std::memory_order_relaxed);
    if constexpr (requires { s_.queue.close(); })
      if (closes_) s_.queue.close();
  }
  [[nodiscard]] bool stuck(const Published&) const override { return true; }
  [[nodiscard]] std::string stall_detail(const Published& p, std::int64_t stall_ns,
                                         bool) const override {
    return "bare flood: no progress for " + std::to_string(stall_ns / 1'000'000) + " ms (" +
           std::to_string(p.consumed) + " consumed of " + std::to_string(p.accepted) + " pushed)";
  }

 private:
  Flood<B>& s_;
  bool closes_;
};

template <class B, bool TryOps>
BareResult run_flood(const BareConfig& cfg) {
  auto shared = std::make_shared<Flood<B>>(cfg);
  Flood<B>& s = *shared;
  BareResult r;
  r.oversubscribed = cfg.producers + cfg.consumers > online_cores();
  if (cfg.pin) {
    s.pin = plan_placement(cfg.producers, cfg.consumers, machine_topology(), cfg.placement);
    r.pinning = describe(s.pin);
  }
  Workers workers;
  for (std::size_t i = 0; i < cfg.consumers; ++i)
    workers.add(std::thread([shared, i] { flood_consumer<B, TryOps>(*shared, i); }),
                s.consumers[i].done);
  const std::int64_t duration = cfg.duration.count();
  for (std::size_t i = 0; i < cfg.producers; ++i)
    workers.add(
        std::thread([shared, i, duration] { flood_producer<B, TryOps>(*shared, i, duration); }),
        s.producers[i].done);
  const std::int64_t t0 = s.start.go();
  FloodDriver<B> driver(s, !TryOps);
  const ControlOutcome o =
      control(driver, workers,
              {.t0 = t0, .interval_ns = 10'000'000, .stall_ns = cfg.stall_timeout.count()});
  r.verdict = o.verdict;
  r.detail = o.detail;
  if (o.verdict != Verdict::ok) {
    // What the workers had published: the run did not finish, nothing else is read.
    r.pushed = o.last.accepted;
    r.consumed = o.last.consumed;
    if (r.consumed < r.pushed)
      r.detail += "; " + std::to_string(r.pushed - r.consumed) + " items never consumed";
    return r;
  }
  std::uint64_t pushed_sum = 0, consumed_sum = 0;
  std::int64_t last_exit = t0;
  for (auto& p : s.producers) {
    r.pushed += p.count;
    pushed_sum += p.sum;
  }
  for (auto& c : s.consumers) {
    r.consumed += c.count;
    consumed_sum += c.sum;
    last_exit = std::max(last_exit, c.exit_ns);
  }
  r.seconds = static_cast<double>(std::max<std::int64_t>(last_exit - t0, 1)) * 1e-9;
  r.items_per_s = static_cast<double>(r.consumed) / r.seconds;
  r.median_depth = o.median_depth;
  Verifier v;
  std::uint64_t lost = 0, duplicated = 0;
  v.counts(r.pushed, r.consumed, "items", lost, duplicated);
  bool checksum_ok = false;
  v.checksum(pushed_sum == consumed_sum, checksum_ok);
  v.pinned(s.start.pin_failed(), r.pinning);
  v.settle(r.verdict, r.detail);
  return r;
}

template <class B>
struct PingPong {
  explicit PingPong(std::size_t capacity)
      : ab(QueueOptions{.capacity = capacity, .producers = 1, .consumers = 1}),
        ba(QueueOptions{.capacity = capacity, .producers = 1, .consumers = 1}),
        spin_limit(spin_limit_for(2)) {}
  alignas(detail::false_sharing_block) B ab;  // each queue on blocks of its own (spin.hpp)
  alignas(detail::false_sharing_block) B ba;
  alignas(detail::false_sharing_block) StartLine start{2};
  Side a, b;
  alignas(detail::false_sharing_block) std::atomic<bool> stop{false};
  std::uint32_t spin_limit;
  PinPlan pin;
  Histogram per_rtt_ps;     // A's: one per-batch mean per sample
  std::uint64_t wrong = 0;  // A's: replies that were not the item it sent
};

template <class B, bool TryOps>
void pingpong_a(PingPong<B>& s, std::uint64_t warmup, std::uint64_t timed) {
  auto out = producer_handle(s.ab, 0);
  auto in = consumer_handle(s.ba, 0);
  s.start.wait(cpu_of(s.pin.producer_cpu, 0));
  Backoff backoff(s.spin_limit, s.stop);
  std::uint64_t seq = 0;
  std::uint64_t wrong = 0;  // in a register: no store per round trip beyond the queue's own
  typename B::value_type sent{0, 0, 0}, back;
  const auto round_trip = [&]() noexcept {
    stamp(sent, seq, 0, 0);
    if (!put<TryOps>(out, sent, backoff) || !take<TryOps>(in, back, backoff)) return false;
    wrong += back.id != seq;
    if ((++seq & (bare_publish_every - 1)) == 0) s.a.progress.store(seq, std::memory_order_relaxed);
    return true;
  };
  constexpr std::uint64_t batch = 16;
  bool ok = true;
  for (std::uint64_t i = 0; ok && i < warmup; ++i)
    ok = round_trip();
  for (std::uint64_t left = timed; ok && left > 0;) {
    const std::uint64_t n = std::min(left, batch);
    const std::int64_t t0 = now_ns();
    for (std::uint64_t i = 0; ok && i < n; ++i)
      ok = round_trip();
    if (!ok) break;
    s.per_rtt_ps.record((now_ns() - t0) * 1000 / static_cast<std::int64_t>(n));
    left -= n;
  }
  s.wrong = wrong;
  s.a.count = seq;
  s.a.progress.store(seq, std::memory_order_relaxed);
  if constexpr (!TryOps) s.ab.close();  // B's pop returns closed once it has answered all
  s.a.done.store(true, std::memory_order_release);
}

template <class B, bool TryOps>
void pingpong_b(PingPong<B>& s, std::uint64_t total) {
  auto in = consumer_handle(s.ab, 0);
  auto out = producer_handle(s.ba, 0);
  s.start.wait(cpu_of(s.pin.consumer_cpu, 0));
  Backoff backoff(s.spin_limit, s.stop);
  std::uint64_t n = 0;
  typename B::value_type item;
  while (n < total) {
    if (!take<TryOps>(in, item, backoff) || !put<TryOps>(out, item, backoff)) break;
    ++n;
  }
  s.b.count = n;
  s.b.done.store(true, std::memory_order_release);
}

template <class B>
class PingPongDriver final : public Driver {
 public:
  PingPongDriver(PingPong<B>& s, bool closes) : s_(s), closes_(closes) {}
  Published poll() override {
    Published p;
    p.consumed = s_.a.progress.load(std::memory_order_relaxed);
    p.producers_done = s_.a.done.load(std::memory_order_acquire);
    p.finished = p.producers_done && s_.b.done.load(std::memory_order_acquire);
    return p;
  }
  void shut_down(std::int64_t) override {}
  void abort() override {
    s_.stop.store(true, std::memory_order_relaxed);
    if constexpr (requires { s_.ab.close(); }) {
      if (closes_) {
        s_.ab.close();
        s_.ba.close();
      }
    }
  }
  [[nodiscard]] bool stuck(const Published&) const override { return true; }
  [[nodiscard]] std::string stall_detail(const Published& p, std::int64_t stall_ns,
                                         bool) const override {
    return "bare ping-pong: no round trip for " + std::to_string(stall_ns / 1'000'000) +
           " ms (after " + std::to_string(p.consumed) + ")";
  }

 private:
  PingPong<B>& s_;
  bool closes_;
};

template <class B, bool TryOps>
BareResult run_pingpong(const BareConfig& cfg) {
  auto shared = std::make_shared<PingPong<B>>(cfg.capacity);
  PingPong<B>& s = *shared;
  BareResult r;
  r.oversubscribed = 2 > online_cores();
  if (cfg.pin) {
    s.pin = plan_placement(1, 1, machine_topology(), cfg.placement);
    r.pinning = describe(s.pin);
  }
  const std::uint64_t timed = cfg.round_trips;
  const std::uint64_t warmup = std::max<std::uint64_t>(timed / 10, 1);
  Workers workers;
  workers.add(
      std::thread([shared, total = warmup + timed] { pingpong_b<B, TryOps>(*shared, total); }),
      s.b.done);
  workers.add(
      std::thread([shared, warmup, timed] { pingpong_a<B, TryOps>(*shared, warmup, timed); }),
      s.a.done);
  const std::int64_t t0 = s.start.go();
  PingPongDriver<B> driver(s, !TryOps);
  const ControlOutcome o =
      control(driver, workers,
              {.t0 = t0, .interval_ns = 10'000'000, .stall_ns = cfg.stall_timeout.count()});
  r.verdict = o.verdict;
  r.detail = o.detail;
  r.pushed = warmup + timed;
  if (o.verdict != Verdict::ok) {
    r.consumed = o.last.consumed;
    return r;
  }
  r.consumed = s.a.count;
  r.rtt_min_ns = ps_to_ns(s.per_rtt_ps.min());
  r.rtt_p50_ns = ps_to_ns(s.per_rtt_ps.percentile(50));
  r.rtt_p99_ns = ps_to_ns(s.per_rtt_ps.percentile(99));
  r.seconds = static_cast<double>(now_ns() - t0) * 1e-9;
  Verifier v;
  std::uint64_t lost = 0, duplicated = 0;
  v.counts(r.pushed, r.consumed, "round trips", lost, duplicated);
  if (s.wrong) v.fail(std::to_string(s.wrong) + " replies were not the item sent");
  v.pinned(s.start.pin_failed(), r.pinning);
  v.settle(r.verdict, r.detail);
  return r;
}

}  // namespace bare_detail

// The bare reference of registered queue Q (see the top of this file).
template <class Q>
BareResult run_bare(const BareConfig& cfg) {
  using T = bare_detail::Target<Q>;
  using B = typename T::type;
  BareResult r = cfg.workload == WorkloadKind::pingpong
                     ? bare_detail::run_pingpong<B, T::try_ops>(cfg)
                     : bare_detail::run_flood<B, T::try_ops>(cfg);
  r.item_bytes = sizeof(typename B::value_type);
  r.driven = T::try_ops ? "try_push/try_pop of " + std::string(B::name) + ", spinning"
                        : "push/pop of " + std::string(B::name) + " (its own blocking calls)";
  return r;
}

}  // namespace qb
