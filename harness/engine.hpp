// The run engine: drives one queue with one workload and measures what happens.
//
// Threads: P producers and C consumers start together (a latch, then a common start time a
// little in the future); the calling thread is the controller: it samples depth and RSS on a
// fixed tick, closes the queue once every producer is done, and watches for stalls, the memory
// cap and Ctrl-C. Per-item loops are templates per queue and schedule: no virtual call, no
// std::function, no allocation per item. Per-thread state lives in cache-line-aligned slots
// written only by their owner; the controller reads counters published with relaxed stores.
//
// Latency is measured from the intended send time of the schedule (no coordinated omission):
//   latency = pop return - intended,  sojourn = pop return - push call,  lag = push call -
//   intended.
// Flood has no schedule: its intended time is the push call.
#pragma once

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/item.hpp"
#include "core/run_config.hpp"
#include "harness/affinity.hpp"
#include "harness/system_info.hpp"
#include "queues/concept.hpp"
#include "queues/detail/spin.hpp"
#include "results/histogram.hpp"
#include "results/run_result.hpp"
#include "workloads/schedule.hpp"
#include "workloads/service.hpp"

namespace qb {

// Set from the SIGINT/SIGTERM handler; the controller ends the current run when it sees it.
inline std::atomic<bool> g_interrupted{false};

namespace engine_detail {

// Per-interval latency for the time series: coarse log buckets (4 per octave).
struct IntervalLatency {
  static constexpr int buckets = 160;
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;
  std::int64_t max_ns = 0;
  std::uint32_t hist[buckets] = {};

  static int bucket_of(std::int64_t v) noexcept {
    if (v < 4) return static_cast<int>(std::max<std::int64_t>(v, 0));
    const auto u = static_cast<std::uint64_t>(v);
    const int octave = 63 - std::countl_zero(u);                    // >= 2
    const int quarter = static_cast<int>((u >> (octave - 2)) & 3);  // next two bits
    return std::min(buckets - 1, 4 * (octave - 1) + quarter);
  }
  static std::int64_t bucket_top(int b) noexcept {
    if (b < 4) return b;
    const int octave = b / 4 + 1;
    const int quarter = b % 4;
    return ((std::int64_t{4} + quarter + 1) << (octave - 2)) - 1;
  }
  void record(std::int64_t v) noexcept {
    ++count;
    sum_ns += static_cast<std::uint64_t>(std::max<std::int64_t>(v, 0));
    max_ns = std::max(max_ns, v);
    ++hist[bucket_of(v)];
  }
  void merge(const IntervalLatency& o) noexcept {
    count += o.count;
    sum_ns += o.sum_ns;
    max_ns = std::max(max_ns, o.max_ns);
    for (int i = 0; i < buckets; ++i)
      hist[i] += o.hist[i];
  }
  [[nodiscard]] std::int64_t p99() const noexcept {
    if (!count) return 0;
    const std::uint64_t rank = count - count / 100;  // nearest rank of p99
    std::uint64_t seen = 0;
    for (int i = 0; i < buckets; ++i) {
      seen += hist[i];
      if (seen >= rank) return std::min(bucket_top(i), max_ns);
    }
    return max_ns;
  }
};

struct alignas(detail::cache_line) ProducerSlot {
  // Published for the controller (relaxed stores by the owner only).
  std::atomic<std::uint64_t> offered{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<bool> done{false};
  alignas(detail::cache_line) std::uint64_t rejected = 0;  // owner-only from here on
  std::uint64_t dropped = 0;
  std::uint64_t checksum = 0;
  std::int64_t exit_ns = 0;
  std::int64_t pacing_cpu_ns = 0;           // CPU spent waiting for intended send times
  std::uint64_t refused_tree_checksum = 0;  // tree: the nodes of refused roots
  Histogram lag;
  CpuUsage cpu;
};

struct alignas(detail::cache_line) ConsumerSlot {
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> done{false};
  alignas(detail::cache_line) std::uint64_t checksum = 0;  // owner-only from here on
  std::uint64_t out_of_order = 0;
  std::uint64_t inline_nodes = 0;
  std::uint64_t key_reorders = 0;
  std::uint64_t count = 0;
  std::int64_t last_item_ns = 0;  // when it took its last item
  std::int64_t exit_ns = 0;
  std::vector<std::uint64_t> next_seq;  // per producer: the lowest sequence still in order
  std::vector<IntervalLatency> timeline;
  Histogram latency;
  Histogram sojourn;
  CpuUsage cpu;
};

// Everything the threads share, owned by a shared_ptr: if a broken queue keeps a thread from
// ever returning, the controller detaches it and this state stays alive for it.
template <class Q>
struct Shared {
  Shared(const RunConfig& c, const QueueOptions& o)
      : cfg(c),
        queue(o),
        producers(c.producers),
        consumers(c.consumers),
        key_stride((c.producers + 7) / 8 * 8),
        start(static_cast<std::ptrdiff_t>(c.producers + c.consumers + 1)) {
    if (c.keys) {
      key_locks = std::make_unique<KeyLock[]>(c.keys);
      key_next.assign(c.keys * key_stride, 0);
    }
  }
  RunConfig cfg;
  Q queue;
  std::vector<ProducerSlot> producers;
  std::vector<ConsumerSlot> consumers;
  // Keyed items: per key, the next sequence number expected from each producer (key_stride
  // words per key, a cache line at least) and, for queues that do not route keys to an owner,
  // the lock a consumer holds while it applies an item to its key.
  struct alignas(detail::cache_line) KeyLock {
    std::mutex m;
  };
  std::unique_ptr<KeyLock[]> key_locks;
  std::vector<std::uint64_t> key_next;
  std::size_t key_stride;
  std::latch start;
  std::atomic<std::int64_t> t0{0};
  alignas(detail::cache_line) std::atomic<bool> stop{false};
  std::atomic<bool> shutdown_requested{false};  // Shutdown::poll
  PinPlan pin;                                  // empty unless cfg.pin
  std::atomic<bool> pin_failed{false};
};

// Joins `t` once its owner has set `done`, waiting up to 2 s; a thread that never returns (a
// broken queue ignoring close) is detached instead, still holding its reference to the shared
// state. False when it was abandoned.
inline bool join_or_abandon(std::thread& t, const std::atomic<bool>& done) {
  const std::int64_t give_up = now_ns() + 2'000'000'000;
  while (!done.load(std::memory_order_acquire) && now_ns() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (done.load(std::memory_order_acquire)) {
    t.join();
    return true;
  }
  t.detach();
  return false;
}

// Pins the calling worker to its CPU of the plan (--pin); a refusal fails the run afterwards.
template <class S>
void pin_worker(S& s, const std::vector<unsigned>& cpus, std::size_t index) {
  if (!s.cfg.pin || index >= cpus.size()) return;
  if (!pin_current_thread(cpus[index], nullptr))
    s.pin_failed.store(true, std::memory_order_relaxed);
}

// Sleeps until `t` (CLOCK_MONOTONIC ns, absolute). Returns at once if `t` has passed.
inline void sleep_until_ns(std::int64_t t) noexcept {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Waits until `t`: sleeps while it is far off, then spins the last stretch (the kernel's wake-up
// takes 30-50 us on a VM even with 1 ns timer slack). Precise, and burns the CPU it spins.
inline void spin_until_ns(std::int64_t t) noexcept {
  constexpr std::int64_t spin_window = 60'000;
  std::int64_t now = now_ns();
  if (t - now > spin_window) {
    sleep_until_ns(t - spin_window);
    now = now_ns();
  }
  while (now < t) {
    detail::cpu_relax();
    now = now_ns();
  }
}

template <class Q, class Schedule>
void producer_loop(Shared<Q>& s, std::size_t index, Schedule schedule) {
  // 1 ns timer slack: paced producers sleep until the next intended time, precisely.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  auto& slot = s.producers[index];
  auto handle = producer_handle(s.queue, index);
  const RunConfig& cfg = s.cfg;
  const std::uint64_t quota =
      cfg.items ? cfg.items / cfg.producers + (index < cfg.items % cfg.producers ? 1 : 0) : ~0ULL;
  const bool tree = cfg.workload == WorkloadKind::tree;
  const std::uint64_t nodes = tree ? cfg.nodes_per_root() : 0;
  // Roots per producer fit the id's 32 root bits; plain sequence numbers its 40 bits.
  const std::uint64_t seq_limit = tree ? std::uint64_t{1} << 32 : item_seq_mask;
  const std::uint64_t keys = tree ? 0 : cfg.keys;
  Rng key_rng(cfg.seed * 6364136223846793005ULL + index * 1442695040888963407ULL + 17);
  const Backpressure policy = cfg.backpressure;
  const auto push_timeout = cfg.push_timeout;
  // Fixed gaps: stagger producers by one aggregate gap each, so that together they send evenly
  // spaced items instead of P items at the same instants.
  const std::int64_t offset =
      Schedule::paced && cfg.gaps == Gaps::fixed
          ? static_cast<std::int64_t>(1e9 / cfg.rate * static_cast<double>(index))
          : 0;

  const bool spin_pacing = cfg.pacing == Pacing::spin;
  // Latency off (flood and tree only): the clock is read every 64 sends, for the end time.
  const bool record = cfg.record_latency;
  pin_worker(s, s.pin.producer_cpu, index);
  s.start.arrive_and_wait();
  const std::int64_t t0 = s.t0.load(std::memory_order_relaxed);
  const std::int64_t end = cfg.items ? INT64_MAX : t0 + cfg.duration.count();
  spin_until_ns(t0);
  const CpuUsage cpu0 = thread_cpu();

  std::uint64_t seq = 0, accepted = 0, refused = 0;
  while (seq < quota && seq < seq_limit) {
    if (s.stop.load(std::memory_order_relaxed)) break;
    std::int64_t intended;
    if constexpr (Schedule::paced) {
      intended = t0 + offset + schedule.next();
      if (intended >= end) break;
      // Open loop: an item already due goes at once (its lateness is measured, as lag). The CPU
      // spent waiting is the load generator's, not the queue's: it is measured apart.
      if (intended > now_ns()) {
        const std::int64_t c0 = thread_cpu_ns();
        if (spin_pacing) {
          spin_until_ns(intended);
        } else {
          sleep_until_ns(intended);
        }
        slot.pacing_cpu_ns += thread_cpu_ns() - c0;
      }
    }
    std::int64_t call = 0;
    if (Schedule::paced || record || (seq & 63) == 0) call = now_ns();
    if constexpr (!Schedule::paced) {
      intended = call;
      if (call >= end) break;
    }
    std::uint64_t id;
    if (tree) {
      id = make_tree_id(index, seq, 0);
    } else {
      // A key drawn uniformly from [0, keys) (modulo bias below 2^-47 for keys <= 2^16).
      const std::uint64_t key = keys ? key_rng.next() % keys : 0;
      id = make_item_id(index, key, seq);
    }
    const Item item{id, intended, call};
    slot.offered.store(seq + 1, std::memory_order_relaxed);
    QueueStatus st;
    switch (policy) {
      case Backpressure::block:
        st = handle.push(item, forever);
        break;
      case Backpressure::timeout:
        st = handle.push(item, push_timeout);
        break;
      default:
        st = handle.try_push(item) ? QueueStatus::ok : QueueStatus::timeout;
        break;
    }
    if (st == QueueStatus::ok) {
      if (!tree) slot.checksum += mix_id(item.id);  // trees: summed after the run
      if constexpr (Schedule::paced) slot.lag.record(call - intended);
      slot.accepted.store(++accepted, std::memory_order_relaxed);
    } else if (st == QueueStatus::timeout) {
      ++(policy == Backpressure::drop ? slot.dropped : slot.rejected);
      if (tree) slot.refused_tree_checksum += tree_checksum(item.id, nodes);
      slot.refused.store(++refused, std::memory_order_relaxed);
    } else {
      // closed: the controller ended the run. This item was offered but not accepted.
      slot.offered.store(seq, std::memory_order_relaxed);
      break;
    }
    ++seq;
  }
  slot.cpu = thread_cpu() - cpu0;
  slot.exit_ns = now_ns();
  slot.done.store(true, std::memory_order_release);
}

// How a consumer pushes the children of a tree node: through its own handle when that can push
// (ws_pool: into the worker's own deque), otherwise through a producer handle of its own.
template <class H>
struct HandleRef {
  H* h;
  bool try_push(const Item& v) { return h->try_push(v); }
};
template <class Q, class H>
auto child_pusher(Q& q, H& consumer, std::size_t producer_index) {
  if constexpr (requires(const Item& v) {
                  { consumer.try_push(v) } -> std::same_as<bool>;
                }) {
    (void)q;
    (void)producer_index;
    return HandleRef<H>{&consumer};
  } else {
    return producer_handle(q, producer_index);
  }
}

template <class Q>
void consumer_loop(Shared<Q>& s, std::size_t index) {
  auto& slot = s.consumers[index];
  auto handle = consumer_handle(s.queue, index);
  const RunConfig& cfg = s.cfg;
  ServiceTime service(cfg.service, cfg.service_time.count(), cfg.service_mode,
                      cfg.seed * 7919 + 1000 + index);
  using Queue = std::remove_cvref_t<decltype(s.queue)>;
  const bool tree = cfg.workload == WorkloadKind::tree;
  const bool check_order = Queue::traits.order != Order::none && !tree;
  const bool keyed = cfg.keys > 0 && !tree;
  // Sharded mailboxes route each key to one consumer: its state needs no lock.
  constexpr bool owns_keys = Queue::traits.order == Order::per_key;
  const bool serve = cfg.service != ServiceDist::none;
  const std::uint64_t fanout = cfg.fanout;
  const std::uint64_t nodes = tree ? cfg.nodes_per_root() : 0;
  // Tree: children the queue refused (full) run here, depth first: at most depth*(fanout-1)+1
  // wait at once, so the stack never reallocates.
  std::vector<Item> local;
  using Pusher = decltype(child_pusher(s.queue, handle, 0));
  std::optional<Pusher> pusher;
  if (tree) {
    local.reserve(cfg.depth * cfg.fanout + 1);
    pusher.emplace(child_pusher(s.queue, handle, cfg.producers + index));
  }
  const std::int64_t interval = cfg.sample_interval.count();
  const std::size_t last_interval = slot.timeline.size() - 1;
  const bool record = cfg.record_latency;

  pin_worker(s, s.pin.consumer_cpu, index);
  s.start.arrive_and_wait();
  const std::int64_t t0 = s.t0.load(std::memory_order_relaxed);
  spin_until_ns(t0);
  const CpuUsage cpu0 = thread_cpu();

  std::size_t k = 0;
  std::int64_t next_boundary = t0 + interval;
  std::uint64_t n = 0;
  std::int64_t last_item = t0;
  Item item;
  const Shutdown shutdown = cfg.shutdown;
  const auto poll = cfg.poll_interval;
  for (;;) {
    if (!local.empty()) {
      item = local.back();
      local.pop_back();
    } else {
      QueueStatus st;
      if (shutdown == Shutdown::poll) {
        st = handle.pop(item, poll);
        if (st == QueueStatus::timeout) {
          // acquire: pairs with the controller's store after every producer finished; a pop
          // that timed out after seeing it found the queue empty with nothing more to come.
          if (s.shutdown_requested.load(std::memory_order_acquire)) {
            if (handle.pop(item, std::chrono::nanoseconds{0}) != QueueStatus::ok) break;
            st = QueueStatus::ok;
          } else {
            if (s.stop.load(std::memory_order_relaxed)) break;
            continue;
          }
        }
      } else {
        st = handle.pop(item, forever);
      }
      if (st != QueueStatus::ok) break;
      if (shutdown == Shutdown::poison && is_poison(item.id)) break;
    }
    std::int64_t now = 0;
    if (record) {
      now = now_ns();
      last_item = now;
      const std::int64_t latency = now - item.intended_ns;
      slot.latency.record(latency);
      slot.sojourn.record(now - item.pushed_ns);
      while (now >= next_boundary && k < last_interval) {
        ++k;
        next_boundary += interval;
      }
      slot.timeline[k].record(latency);
    } else if ((n & 63) == 0) {
      // Latency off: the end time is known to within 64 items.
      last_item = now_ns();
    }
    const std::uint64_t producer = item_producer(item.id);
    const std::uint64_t seq = item_seq(item.id);
    if (check_order && producer < slot.next_seq.size()) {
      if (seq < slot.next_seq[producer]) ++slot.out_of_order;
      slot.next_seq[producer] = seq + 1;
    }
    if (tree) {
      // Fork: children go out before this node's own work, so idle workers can take them.
      const std::uint64_t node = tree_node(item.id);
      const std::uint64_t first = node * fanout + 1;
      if (first < nodes) {
        const std::uint64_t root = item.id - node;
        for (std::uint64_t c = 0; c < fanout; ++c) {
          const Item child{root | (first + c), now, now};
          if (!pusher->try_push(child)) {
            local.push_back(child);
            ++slot.inline_nodes;
          }
        }
      }
    }
    slot.checksum += mix_id(item.id);
    if (keyed) {
      // Apply the item to its key's state: check per-(producer, key) order, then do the work
      // while holding the key (an actor's handler, or a critical section on a shared queue).
      const std::uint64_t key = item_key(item.id);
      auto apply = [&] {
        std::uint64_t& next = s.key_next[key * s.key_stride + producer];
        if (seq < next) {
          ++slot.key_reorders;
        } else {
          next = seq + 1;
        }
        if (serve) service.serve();
      };
      if constexpr (owns_keys) {
        apply();
      } else {
        std::lock_guard lock(s.key_locks[key].m);
        apply();
      }
    } else if (serve) {
      service.serve();
    }
    slot.consumed.store(++n, std::memory_order_relaxed);
    if (s.stop.load(std::memory_order_relaxed)) break;
  }
  slot.count = n;
  slot.last_item_ns = last_item;
  slot.cpu = thread_cpu() - cpu0;
  slot.exit_ns = now_ns();
  slot.done.store(true, std::memory_order_release);
}

template <class Schedule>
Schedule make_schedule(const RunConfig& cfg, std::size_t index) {
  const double share = 1.0 / static_cast<double>(cfg.producers);
  const std::uint64_t seed = cfg.seed * 1'000'003 + index * 7 + static_cast<std::uint64_t>(cfg.rep);
  if constexpr (std::is_same_v<Schedule, SteadySchedule>) {
    return SteadySchedule(cfg.rate * share, cfg.gaps, seed);
  } else if constexpr (std::is_same_v<Schedule, BurstSchedule>) {
    return BurstSchedule(cfg.rate * share, cfg.peak_rate * share, cfg.burst.count(),
                         cfg.period.count(), cfg.gaps, seed);
  } else {
    return FloodSchedule{};
  }
}

}  // namespace engine_detail

// Runs one configuration on queue type Q with arrival schedule S. Never hangs: a stall, the
// memory cap or an interrupt ends the run with that verdict.
template <class Q, class Schedule>
RunResult run_engine(const RunConfig& cfg) {
  using namespace engine_detail;
  RunResult r;
  r.config = cfg;
  r.traits = Q::traits;
  r.oversubscribed = cfg.producers + cfg.consumers > online_cores();

  const bool tree = cfg.workload == WorkloadKind::tree;
  const std::uint64_t nodes = tree ? cfg.nodes_per_root() : 1;
  // Tree runs: consumers push too (children), each through a producer slot of its own.
  const QueueOptions opts{.capacity = cfg.capacity,
                          .producers = cfg.producers + (tree ? cfg.consumers : 0),
                          .consumers = cfg.consumers};
  const std::int64_t interval = std::max<std::int64_t>(cfg.sample_interval.count(), 1'000'000);
  // Timeline length: the planned duration plus room for the drain; later items share the last.
  // Only a run that keeps its time series needs one (each interval costs 664 bytes per
  // consumer, which would otherwise show up in the run's peak RSS).
  const std::size_t planned_intervals =
      !cfg.keep_samples ? 1
      : cfg.items       ? 6000
                        : static_cast<std::size_t>(
                        std::min<std::int64_t>(cfg.duration.count() / interval * 2 + 100, 60'000));

  auto shared = std::make_shared<Shared<Q>>(cfg, opts);
  Shared<Q>& s = *shared;
  if (cfg.pin) {
    s.pin = plan_pinning(cfg.producers, cfg.consumers, allowed_cpus());
    r.pinning = describe(s.pin);
  }
  s.cfg.sample_interval = std::chrono::nanoseconds(interval);
  for (auto& c : s.consumers) {
    c.next_seq.assign(cfg.producers, 0);
    c.timeline.assign(planned_intervals, IntervalLatency{});
  }

  r.rss_before = current_rss_bytes();
  const bool peak_reset = reset_peak_rss();

  std::vector<std::thread> threads;
  threads.reserve(cfg.producers + cfg.consumers);
  for (std::size_t i = 0; i < cfg.consumers; ++i) {
    threads.emplace_back([shared, i] { consumer_loop(*shared, i); });
  }
  for (std::size_t i = 0; i < cfg.producers; ++i) {
    auto sched = make_schedule<Schedule>(cfg, i);
    threads.emplace_back([shared, i, sched] { producer_loop(*shared, i, sched); });
  }

  // Start a little in the future so every thread is waiting when the clock gets there.
  const std::int64_t t0 = now_ns() + 2'000'000;
  s.t0.store(t0, std::memory_order_relaxed);
  s.start.arrive_and_wait();

  // ---- The controller: sampling, closing, watchdog, memory cap, interrupt --------------------
  const std::int64_t stall_ns = cfg.stall_timeout.count();
  std::vector<Sample> samples;
  if (cfg.keep_samples) samples.reserve(planned_intervals + 16);
  static_assert(sizeof(IntervalLatency) <= 664, "see planned_intervals");
  std::uint64_t last_consumed = 0;
  std::int64_t last_progress = t0;
  bool closed = false;
  bool shutdown_requested = false;
  std::size_t pills_left = 0;
  std::int64_t producers_done_at = 0;
  std::uint64_t peak_depth = 0;

  auto abort_run = [&](Verdict v, std::string why) {
    r.verdict = v;
    r.detail = std::move(why);
    s.stop.store(true, std::memory_order_relaxed);
    s.queue.close();
    closed = true;
  };

  for (std::int64_t tick = t0 + interval;; tick += interval) {
    sleep_until_ns(tick);
    std::uint64_t offered = 0, accepted = 0, refused = 0, consumed = 0;
    std::size_t producers_done = 0, consumers_done = 0;
    for (auto& p : s.producers) {
      offered += p.offered.load(std::memory_order_relaxed);
      accepted += p.accepted.load(std::memory_order_relaxed);
      refused += p.refused.load(std::memory_order_relaxed);
      producers_done += p.done.load(std::memory_order_acquire);
    }
    for (auto& c : s.consumers) {
      consumed += c.consumed.load(std::memory_order_relaxed);
      consumers_done += c.done.load(std::memory_order_acquire);
    }
    // Items accepted and not yet consumed (trees: nodes still to run, spawned or not).
    const std::uint64_t expected = accepted * nodes;
    const std::uint64_t depth =
        tree ? s.queue.approx_size() : (expected > consumed ? expected - consumed : 0);
    peak_depth = std::max(peak_depth, depth);
    const std::uint64_t rss = current_rss_bytes();
    const std::int64_t now = now_ns();
    if (cfg.keep_samples) {
      // Inside a burst window of the schedule (none after the producers' planned end).
      const bool burst =
          cfg.workload == WorkloadKind::burst &&
          (cfg.items ? producers_done < cfg.producers : now - t0 < cfg.duration.count()) &&
          (now - t0) % cfg.period.count() < cfg.burst.count();
      samples.push_back(Sample{static_cast<double>(now - t0) * 1e-9, depth, rss, consumed, accepted,
                               refused, burst, 0, 0, 0});
    }
    if (consumers_done == cfg.consumers) break;
    if (pills_left) {
      // Poison pills go in after the last item, without blocking the controller.
      while (pills_left &&
             s.queue.try_push(Item{poison_pill(cfg.consumers - pills_left), now, now}))
        --pills_left;
    }
    if (closed) {
      // Aborted, or draining after the producers: wait for the consumers (bounded below).
      if (r.verdict != Verdict::ok && now - last_progress > stall_ns + 2'000'000'000) break;
    }
    // A tree is finished when every node of every accepted root has run.
    if (!shutdown_requested && producers_done == cfg.producers && (!tree || consumed >= expected)) {
      shutdown_requested = true;
      producers_done_at = now;
      switch (cfg.shutdown) {
        case Shutdown::close:
          s.queue.close();  // consumers drain what is left, then see closed
          closed = true;
          break;
        case Shutdown::poison: {
          pills_left = cfg.consumers;
          while (pills_left &&
                 s.queue.try_push(Item{poison_pill(cfg.consumers - pills_left), now, now}))
            --pills_left;
          break;
        }
        case Shutdown::poll:
          // release: consumers that see it also see that every producer is done.
          s.shutdown_requested.store(true, std::memory_order_release);
          break;
      }
    }
    if (consumed != last_consumed) {
      last_consumed = consumed;
      last_progress = now;
    } else if (r.verdict == Verdict::ok && now - last_progress > stall_ns) {
      const bool in_push = offered > accepted + refused;
      if (expected > consumed || in_push) {
        abort_run(Verdict::stalled,
                  "nothing consumed for " + std::to_string(stall_ns / 1'000'000) + " ms with " +
                      std::to_string(expected - std::min(expected, consumed)) +
                      (tree ? " nodes to run and " : " items in the queue and ") +
                      std::to_string(offered - accepted - refused) + " producers inside push");
        last_progress = now;
      }
    }
    if (r.verdict == Verdict::ok && cfg.max_rss_bytes && rss > cfg.max_rss_bytes) {
      abort_run(Verdict::memory_cap, "RSS " + std::to_string(rss >> 20) +
                                         " MiB crossed --max-rss " +
                                         std::to_string(cfg.max_rss_bytes >> 20) +
                                         " MiB at depth " + std::to_string(depth));
      last_progress = now;
    }
    if (r.verdict == Verdict::ok && g_interrupted.load(std::memory_order_relaxed)) {
      abort_run(Verdict::interrupted, "interrupted by a signal");
      last_progress = now;
    }
  }

  if (!closed) s.queue.close();  // poison / poll: release anything still waiting

  // Join what finished; a thread that never returns (a broken queue ignoring close) is left
  // behind, detached, holding its own reference to the shared state.
  bool leaked = false;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    const bool is_consumer = i < cfg.consumers;
    auto& done = is_consumer ? s.consumers[i].done : s.producers[i - cfg.consumers].done;
    if (!join_or_abandon(threads[i], done)) leaked = true;
  }
  if (leaked) {
    if (r.verdict == Verdict::ok) r.verdict = Verdict::stalled;
    r.detail += (r.detail.empty() ? "" : "; ") +
                std::string("threads that never returned from the queue were abandoned");
    return r;  // their slots are still being written: report only what the controller saw
  }

  // ---- Merge -------------------------------------------------------------------------------
  std::int64_t last_producer_exit = t0, last_consumer_exit = t0, last_item = t0;
  std::uint64_t produced_sum = 0, consumed_sum = 0;
  for (auto& p : s.producers) {
    r.offered += p.offered.load(std::memory_order_relaxed);
    r.accepted += p.accepted.load(std::memory_order_relaxed);
    r.rejected += p.rejected;
    r.dropped += p.dropped;
    produced_sum += p.checksum - p.refused_tree_checksum;
    r.lag.merge(p.lag);
    r.cpu_producers += p.cpu;
    r.cpu_pacing_s += static_cast<double>(p.pacing_cpu_ns) * 1e-9;
    last_producer_exit = std::max(last_producer_exit, p.exit_ns);
  }
  std::vector<IntervalLatency> timeline(planned_intervals);
  for (auto& c : s.consumers) {
    r.consumed += c.count;
    consumed_sum += c.checksum;
    r.out_of_order += c.out_of_order;
    r.inline_nodes += c.inline_nodes;
    r.key_reorders += c.key_reorders;
    r.latency.merge(c.latency);
    r.sojourn.merge(c.sojourn);
    r.cpu_consumers += c.cpu;
    last_consumer_exit = std::max(last_consumer_exit, c.exit_ns);
    last_item = std::max(last_item, c.last_item_ns);
    for (std::size_t k = 0; k < timeline.size(); ++k)
      timeline[k].merge(c.timeline[k]);
  }
  if (producers_done_at && r.verdict == Verdict::ok)
    r.shutdown_s =
        std::max(0.0, static_cast<double>(last_consumer_exit - producers_done_at) * 1e-9);
  r.produce_s = static_cast<double>(last_producer_exit - t0) * 1e-9;
  r.elapsed_s = static_cast<double>(std::max(last_item, last_producer_exit) - t0) * 1e-9;
  r.span_s = static_cast<double>(last_consumer_exit - t0) * 1e-9;
  r.drain_s = std::max(0.0, r.elapsed_s - r.produce_s);
  r.peak_depth = peak_depth;
  r.rss_after = current_rss_bytes();
  if (peak_reset) r.peak_rss = peak_rss_bytes();
  if constexpr (HasWaitStats<Q>) r.wait_stats = s.queue.stats();

  if (cfg.keep_samples) {
    for (auto& smp : samples) {
      const auto k = static_cast<std::size_t>(smp.t_s * 1e9 / static_cast<double>(interval));
      // The sample at the end of interval k-1 reports the items consumed during it.
      if (k >= 1 && k - 1 < timeline.size() && timeline[k - 1].count) {
        const auto& iv = timeline[k - 1];
        smp.lat_mean_ns = static_cast<std::int64_t>(iv.sum_ns / iv.count);
        smp.lat_p99_ns = iv.p99();
        smp.lat_max_ns = iv.max_ns;
      }
    }
    r.samples = std::move(samples);
  }

  // ---- Verification --------------------------------------------------------------------------
  if (r.verdict == Verdict::ok) {
    std::string why;
    if (tree) {
      // Every node of every offered root, once: the refused roots' nodes were subtracted above.
      for (std::size_t p = 0; p < cfg.producers; ++p) {
        const std::uint64_t offered = s.producers[p].offered.load(std::memory_order_relaxed);
        for (std::uint64_t root = 0; root < offered; ++root)
          produced_sum += tree_checksum(make_tree_id(p, root, 0), nodes);
      }
    }
    const std::uint64_t expected = r.accepted * nodes;
    const char* unit = tree ? " nodes" : " items";
    if (r.consumed < expected) {
      r.lost = expected - r.consumed;
      why += std::to_string(r.lost) + " accepted" + unit + " never consumed; ";
    }
    if (r.consumed > expected) {
      r.duplicated = r.consumed - expected;
      why += std::to_string(r.duplicated) + " more" + unit + " consumed than accepted; ";
    }
    if (produced_sum != consumed_sum) {
      r.checksum_ok = false;
      why += "checksum of consumed ids differs from accepted ids; ";
    }
    if (r.out_of_order) {
      why += std::to_string(r.out_of_order) + " items out of per-producer order; ";
    }
    if (s.pin_failed.load(std::memory_order_relaxed)) {
      why += "a thread could not be pinned to its CPU (" + r.pinning + "); ";
    }
    if (Q::traits.order == Order::per_key && r.key_reorders) {
      why += std::to_string(r.key_reorders) + " items applied out of per-key order; ";
    }
    // A consumer that got nothing while the others shared plenty was starved. Not with keyed
    // mailboxes (a consumer whose mailbox owns no key gets nothing by design), nor in a tree
    // (a consumer that spawns children may run a whole short tree before another one wakes up:
    // that is scheduling, not a lost consumer).
    if (Q::traits.order != Order::per_key && !tree && r.consumed >= 1000 * cfg.consumers) {
      for (auto& c : s.consumers)
        r.starved_consumers += c.count == 0;
      if (r.starved_consumers) {
        why += std::to_string(r.starved_consumers) + " consumers starved; ";
      }
    }
    if (!why.empty()) {
      why.resize(why.size() - 2);
      r.verdict = Verdict::failed;
      r.detail = why;
    }
  } else {
    // Ended early: counts are what they were; items still queued are not "lost".
    r.checksum_ok = true;
  }
  return r;
}

}  // namespace qb
