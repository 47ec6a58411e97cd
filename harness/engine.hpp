// The run engine: drives one queue with one workload and measures what happens.
//
// Threads: P producers and C consumers meet at a StartLine and start together at a common time
// a little in the future; the calling thread runs the shared controller (harness/controller.hpp)
// with this engine's Driver: it samples depth and RSS on a fixed tick, shuts the run down once
// every producer is done, and watches for stalls, the memory cap and Ctrl-C. Per-item loops are
// templates per queue, schedule and work (plain items here, trees in harness/tree.hpp): no
// virtual call, no std::function, no allocation per item. Per-thread state lives in
// cache-line-aligned slots written only by their owner; the controller reads counters published
// with relaxed stores.
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
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/item.hpp"
#include "core/run_config.hpp"
#include "harness/affinity.hpp"
#include "harness/controller.hpp"
#include "harness/system_info.hpp"
#include "harness/topology.hpp"
#include "queues/concept.hpp"
#include "queues/detail/spin.hpp"
#include "results/histogram.hpp"
#include "results/run_result.hpp"
#include "workloads/schedule.hpp"
#include "workloads/service.hpp"

namespace qb {

// A consumer is called starved when it got nothing in a run of at least `starved_after_s` seconds
// that consumed at least `starved_if_none_of` items per consumer.
inline constexpr std::uint64_t starved_if_none_of = 1000;
inline constexpr double starved_after_s = 0.5;

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
  std::int64_t exit_ns = 0;
  std::int64_t last_intended_ns = 0;   // paced: the last offered item's intended time
  std::int64_t pacing_cpu_ns = 0;      // CPU spent waiting for intended send times
  std::uint64_t refused_checksum = 0;  // what the refused items would have added
  Histogram lag;
  CpuUsage cpu;
};

// A run of consecutive ids, [begin, end): a producer's offered ids, or a run a consumer took
// (TakenIds), kept to be mixed into the checksum after the run.
struct IdRange {
  std::uint64_t begin;
  std::uint64_t end;
};

// A checksum, the sum of mix_id over ids: `mixed`, the part summed already, plus mix_ids over each
// of `ranges`, left for after the run. What the producers offered and what the consumers took are
// compared without mixing the ids that ranges of both sides cover (same_checksum).
struct IdSum {
  std::uint64_t mixed = 0;
  std::vector<IdRange> ranges;
};

struct alignas(detail::cache_line) ConsumerSlot {
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> done{false};
  // Owner-only from here on. The checksum of what the consumer took.
  alignas(detail::cache_line) IdSum checksum;
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

// Everything the threads share but the queue, owned (as Shared<Q>) by a shared_ptr: if a broken
// queue keeps a thread from ever returning, the controller detaches it and this state stays alive
// for it. What reads it after the run (the driver's counters, merge, verify) takes a RunState and
// is compiled once (harness/engine.cpp), not once per queue type and item size.
struct RunState {
  explicit RunState(const RunConfig& c);
  RunConfig cfg;
  alignas(detail::false_sharing_block) std::vector<ProducerSlot> producers;
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
  StartLine start;
  alignas(detail::cache_line) std::atomic<bool> stop{false};
  std::atomic<bool> shutdown_requested{false};  // Shutdown::poll
  PinPlan pin;                                  // empty unless cfg.pin
};

template <class Q>
struct Shared : RunState {
  Shared(const RunConfig& c, const QueueOptions& o) : RunState(c), queue(o) {}
  alignas(detail::false_sharing_block) Q queue;  // blocks of its own (spin.hpp)
};

// What producers push, as a policy of the producer loop (chosen at compile time): each item's id,
// and what it adds to the checksum (`checksum`). A producer's loop adds nothing to the checksum per
// item: what the producers offered is summed after the run (produced_checksum), and only refused
// items are summed as they happen, to be taken off.
// Plain items: producer, key and sequence number.
struct PlainIds {
  static constexpr std::uint64_t seq_limit = item_seq_mask;
  PlainIds(const RunConfig& cfg, std::size_t index)
      : keys(cfg.keys),
        rng(cfg.seed * 6364136223846793005ULL + index * 1442695040888963407ULL + 17) {}
  std::uint64_t id(std::size_t index, std::uint64_t seq) noexcept {
    // A key drawn uniformly from [0, keys) (modulo bias below 2^-47 for keys <= 2^16).
    const std::uint64_t key = keys ? rng.next() % keys : 0;
    return make_item_id(index, key, seq);
  }
  static std::uint64_t checksum(std::uint64_t id) noexcept { return mix_id(id); }
  // Whether id() may be drawn for any sequence number in any order: without keys; a keyed id's
  // key is the producer's next random draw, so keyed ids are drawn again in order.
  [[nodiscard]] bool any_order() const noexcept { return keys == 0; }
  // The ids of sequence numbers 0 .. n-1 as one range, when they are consecutive (no keys).
  [[nodiscard]] std::optional<IdRange> offered_range(std::size_t index,
                                                     std::uint64_t n) const noexcept {
    if (keys) return std::nullopt;
    return IdRange{make_item_id(index, 0, 0), make_item_id(index, 0, n)};
  }
  std::uint64_t keys;
  Rng rng;
};
// Tree roots (roots per producer fit the id's 32 root bits): a root stands for every node of its
// tree in the checksum.
struct TreeRoots {
  static constexpr std::uint64_t seq_limit = std::uint64_t{1} << 32;
  TreeRoots(const RunConfig& cfg, std::size_t) : nodes(cfg.nodes_per_root()) {}
  static std::uint64_t id(std::size_t index, std::uint64_t seq) noexcept {
    return make_tree_id(index, seq, 0);
  }
  [[nodiscard]] std::uint64_t checksum(std::uint64_t id) const noexcept {
    return tree_checksum(id, nodes);
  }
  static constexpr bool any_order() noexcept { return true; }
  static std::optional<IdRange> offered_range(std::size_t, std::uint64_t) noexcept {
    return std::nullopt;  // a root stands for its nodes: not one range
  }
  std::uint64_t nodes;
};

// Unpaced producers (flood, tree roots): which items a producer reads the clock for. A clock read
// costs 20-40 ns here, more than a fast queue's whole hand-off, so a producer reads it for one item
// in `every` (a power of two from 1 to 1024), set again at each read from the producer's own time
// per item since the last one, so that the reads cost about 2% of that time: every item at 2 us
// per item, one in 1024 for the fastest queues. The item read for carries the time (it is
// stamped); the consumer reads the clock for stamped items only, and with latency on records
// their latency: a systematic sample, the rate in the latency_sample_every column. The same reads
// check the end of the run, to within a few microseconds. Every item is still verified.
class ClockSampler {
 public:
  static constexpr std::uint64_t max_every = 1024;
  // cost_ns: what one stamped item costs both sides (two clock reads, and the records).
  ClockSampler(std::int64_t t0, double cost_ns) : cost_(cost_ns), at_(t0) {}
  [[nodiscard]] bool due(std::uint64_t seq) const noexcept { return seq == next_; }
  // After the clock was read (`now`) for item `seq`, which was due: when the next one is.
  void read(std::uint64_t seq, std::int64_t now) noexcept {
    if (seq > seq_ && now > at_) {
      const double per_item = static_cast<double>(now - at_) / static_cast<double>(seq - seq_);
      const double want = cost_ / (0.02 * per_item);
      every_ = 1;
      while (every_ < max_every && static_cast<double>(every_) < want)
        every_ *= 2;
    }
    seq_ = seq;
    at_ = now;
    next_ = seq + every_;
  }

 private:
  double cost_;
  std::uint64_t every_ = 1;
  std::uint64_t next_ = 0;
  std::uint64_t seq_ = 0;
  std::int64_t at_;
};

// What a stamped item costs: two clock reads, plus the three histogram records with latency on.
// The clock is measured once per process.
inline double stamped_item_cost_ns(bool record) {
  static const double clock = measure_clock_cost_ns();
  return 2 * clock + (record ? 15 : 0);
}

// A producer's waiting push (paced, or the queue was full), out of line. Inlined, it is further
// copies of the queue's push in the producer's loop (a wait strategy tries the queue at several
// places), and past GCC's budget for the loop the hot try_push was called out of line instead:
// moodycamel's enqueue, a call per item in the flood, at f93d4f6.
template <class H, class V>
[[gnu::noinline]] QueueStatus push_waiting(H& handle, const V& item,
                                           std::chrono::nanoseconds wait_for) {
  return handle.push(item, wait_for);
}

template <class Q, class Schedule, class Ids>
void producer_loop(Shared<Q>& s, std::size_t index, Schedule schedule) {
  // 1 ns timer slack: paced producers sleep until the next intended time, precisely.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  using V = typename Q::value_type;
  auto& slot = s.producers[index];
  // The engine closes the queue once every producer is done (shut_down), or on abort, when the
  // figures are void: no push of a producer races close().
  auto handle = producer_handle(s.queue, index, CloseRace::after_pushes);
  const RunConfig& cfg = s.cfg;
  const std::uint64_t quota =
      cfg.items ? cfg.items / cfg.producers + (index < cfg.items % cfg.producers ? 1 : 0) : ~0ULL;
  Ids ids(cfg, index);
  const Backpressure policy = cfg.backpressure;
  // How long a push may wait: block waits forever, timeout:D for D (drop never waits).
  const std::chrono::nanoseconds wait_for =
      policy == Backpressure::timeout ? cfg.push_timeout : forever;
  // Fixed gaps: stagger producers by one aggregate gap each, so that together they send evenly
  // spaced items instead of P items at the same instants.
  const std::int64_t offset =
      Schedule::paced && cfg.gaps == Gaps::fixed
          ? static_cast<std::int64_t>(1e9 / cfg.rate * static_cast<double>(index))
          : 0;

  const bool spin_pacing = cfg.pacing == Pacing::spin;
  // Published for the controller: every item when paced (low rates, and the time series' depth
  // is exact), every 64 items in flood, where a store per item would sit on the hot path.
  constexpr std::uint64_t publish_mask = Schedule::paced ? 0 : 63;
  const auto publish = [&slot](std::uint64_t offered, std::uint64_t accepted,
                               std::uint64_t refused) {
    slot.offered.store(offered, std::memory_order_relaxed);
    slot.accepted.store(accepted, std::memory_order_relaxed);
    slot.refused.store(refused, std::memory_order_relaxed);
  };
  const std::uint64_t limit = std::min(quota, Ids::seq_limit);  // the quota, or what ids number
  // Paced: every item is stamped. Unpaced: the items the sampler picks, except a tree's roots
  // with latency on, which are all stamped (their nodes' latencies are the tree's figures).
  const bool record = cfg.record_latency;
  const bool stamp_all = Schedule::paced || (record && !std::is_same_v<Ids, PlainIds>);
  const std::int64_t t0 = s.start.wait(cpu_of(s.pin.producer_cpu, index));
  ClockSampler sampler(t0, stamp_all ? 0 : stamped_item_cost_ns(record));
  const std::int64_t end = cfg.items ? INT64_MAX : t0 + cfg.duration.count();
  const CpuUsage cpu0 = thread_cpu();

  // The counters are locals, written to the slot in batches and at the end. Every item offered
  // before `seq` was accepted or refused, so the accepted count is seq - refused.
  std::uint64_t seq = 0, refused = 0;
  std::int64_t last_intended = 0;  // paced: the schedule's time of the last item offered
  V item{0, 0, 0};                 // each item is stamped into it (core/item.hpp)
  while (seq < limit) {
    // The controller's stop (a stall, the memory cap, Ctrl-C; it closes the queue too, which
    // ends a waiting push): paced, before every item; unpaced, every 64 items, with the
    // publishing, so that a flood's loop has no load per item beyond the queue's and its own.
    if ((seq & publish_mask) == 0 && s.stop.load(std::memory_order_relaxed)) break;
    std::int64_t intended;
    if constexpr (Schedule::paced) {
      intended = t0 + offset + schedule.next();
      if (intended >= end) break;
      last_intended = intended;
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
    std::int64_t call = 0;  // 0: not stamped
    if (stamp_all || sampler.due(seq)) {
      call = now_ns();
      if (!stamp_all) sampler.read(seq, call);
    }
    if constexpr (!Schedule::paced) {
      if (call && call >= end) break;
      intended = call;
    }
    stamp(item, ids.id(index, seq), intended, call);  // core/item.hpp
    // Paced, before the push: a push that never returns shows as offered and unanswered.
    if constexpr (Schedule::paced) slot.offered.store(seq + 1, std::memory_order_relaxed);
    // Batched publishing (unpaced) tries the queue first and publishes the exact counts before a
    // push that may wait, so that a producer that never comes back is reported exactly. (The
    // counters go to `publish` by value: captured by reference, they would live in memory.)
    // One call site of try_push: each further one is another copy of the queue's code in this
    // loop, and past the compiler's budget for the loop the queue's push is called out of line.
    QueueStatus st;
    if (Schedule::paced && policy != Backpressure::drop) {
      st = push_waiting(handle, item, wait_for);
    } else if (handle.try_push(item)) {
      st = QueueStatus::ok;
    } else if (policy == Backpressure::drop) {
      st = QueueStatus::timeout;
    } else {
      publish(seq + 1, seq - refused, refused);
      const V copy = item;  // the waiting push takes its address; the item stays in registers
      st = push_waiting(handle, copy, wait_for);
    }
    if (st == QueueStatus::ok) {
      if constexpr (Schedule::paced) slot.lag.record(call - intended);
    } else if (st == QueueStatus::timeout) {
      ++(policy == Backpressure::drop ? slot.dropped : slot.rejected);
      slot.refused_checksum += ids.checksum(item.id);
      ++refused;
    } else {
      break;  // closed: the controller ended the run; this item was offered, not accepted
    }
    // After the push: nothing of the publishing is live across it.
    if ((seq & publish_mask) == 0) publish(seq + 1, seq + 1 - refused, refused);
    ++seq;
  }
  // The exact counts, before `done` (release) below.
  slot.last_intended_ns = last_intended;
  publish(seq, seq - refused, refused);
  slot.cpu = thread_cpu() - cpu0;
  slot.exit_ns = now_ns();
  slot.done.store(true, std::memory_order_release);
}

// A consumer's next item from the queue, by the run's shutdown mode (`poll`: the interval of its
// timed pops), through the queue's own waiting pop. False: the run is over for this consumer
// (closed, its poison pill, or the stop flag).
template <class Q, class H, class V>
[[gnu::noinline]] bool wait_next(Shared<Q>& s, H& handle, V& item, Shutdown shutdown,
                                 std::chrono::nanoseconds poll) {
  if (shutdown != Shutdown::poll) {
    if (handle.pop(item, forever) != QueueStatus::ok) return false;
    return shutdown != Shutdown::poison || !is_poison(item.id);
  }
  for (;;) {
    if (handle.pop(item, poll) == QueueStatus::ok) return true;
    // acquire: pairs with the controller's store after every producer finished; a pop that
    // timed out after seeing it found the queue empty with nothing more to come.
    if (s.shutdown_requested.load(std::memory_order_acquire))
      return handle.pop(item, std::chrono::nanoseconds{0}) == QueueStatus::ok;
    if (s.stop.load(std::memory_order_relaxed)) return false;
  }
}

// The same, for every item. A consumer that publishes its count in batches (flood) passes where
// it publishes (`count`) and its count so far (`n`): it tries the queue first, and publishes its
// exact count before it waits, so that a consumer that never comes back is reported exactly.
// Others (nullptr) go straight to the waiting pop. Nothing of the consumer's escapes on the fast
// path (the count goes by value, the waiting pop fills an item of its own), so that the item and
// the counters stay in registers: anything whose address escaped is stored on every item.
template <class Q, class H, class V>
QB_ALWAYS_INLINE inline bool pop_next(Shared<Q>& s, H& handle, V& item, Shutdown shutdown,
                                      std::chrono::nanoseconds poll,
                                      std::atomic<std::uint64_t>* count, std::uint64_t n) {
  if (count) {
    if (handle.try_pop(item)) return shutdown != Shutdown::poison || !is_poison(item.id);
    count->store(n, std::memory_order_relaxed);
  }
  V waited;
  const bool ok = wait_next(s, handle, waited, shutdown, poll);
  item = waited;
  return ok;
}

// A consumer's clock work per item: for a stamped item (every item when paced, a sample in a
// flood: ClockSampler), a clock read for the end time and, with latency on, its latency, sojourn
// and time-series interval. Nothing for an unstamped one.
class ItemClock {
 public:
  ItemClock(ConsumerSlot& slot, const RunConfig& cfg, std::int64_t t0)
      : slot_(slot),
        interval_(cfg.sample_interval.count()),
        next_boundary_(t0 + interval_),
        last_interval_(slot.timeline.size() - 1),
        record_(cfg.record_latency),
        last_item_(t0) {}
  // The time the item was taken (0 when it is not stamped). Items too small to carry the times
  // (8 and 16 bytes): the end time from a clock read every 1024 items instead (n: the items
  // taken so far), so that the run's elapsed time still includes the drain (short by the time of
  // fewer than 1024 items).
  template <class V>
  QB_ALWAYS_INLINE std::int64_t taken(const V& item, std::uint64_t n = 0) noexcept {
    if constexpr (Stamped<V>) {
      return item.pushed_ns == 0 ? 0 : stamped(item);
    } else {
      return (n & 1023) == 0 ? unstamped() : 0;
    }
  }
  [[nodiscard]] std::int64_t last_item() const noexcept { return last_item_; }

 private:
  [[gnu::noinline]] std::int64_t unstamped() noexcept { return last_item_ = now_ns(); }
  // By reference, as it was measured: passing the two times by value let the consumer keep the
  // item in registers, outrun the producer, and run boost_spsc empty at half its throughput.
  template <class V>
  [[gnu::noinline]] std::int64_t stamped(const V& item) noexcept {
    const std::int64_t now = now_ns();
    last_item_ = now;
    if (record_) {
      const std::int64_t latency = now - item.intended_ns;
      slot_.latency.record(latency);
      slot_.sojourn.record(now - item.pushed_ns);
      while (now >= next_boundary_ && k_ < last_interval_) {
        ++k_;
        next_boundary_ += interval_;
      }
      slot_.timeline[k_].record(latency);
    }
    return now;
  }

  ConsumerSlot& slot_;
  std::int64_t interval_;
  std::int64_t next_boundary_;
  std::size_t last_interval_;
  std::size_t k_ = 0;
  bool record_;
  std::int64_t last_item_;
};

// What every consumer records when it returns.
inline void consumer_exit(ConsumerSlot& slot, std::uint64_t n, const ItemClock& clock,
                          const CpuUsage& cpu0) {
  slot.consumed.store(n, std::memory_order_relaxed);
  slot.count = n;
  slot.last_item_ns = clock.last_item();
  slot.cpu = thread_cpu() - cpu0;
  slot.exit_ns = now_ns();
  slot.done.store(true, std::memory_order_release);
}

// Consumer `index`'s service time (--work), seeded apart from every other consumer's.
inline ServiceTime consumer_service(const RunConfig& cfg, std::size_t index) {
  return ServiceTime(cfg.service, cfg.service_time.count(), cfg.service_mode,
                     cfg.seed * 7919 + 1000 + index);
}

// What a consumer checks of each id it takes: per-producer order (CheckOrder: where the queue
// promises it) and the checksum, the sum of mix_id over every id taken. The common case is one
// compare: an id that follows the one taken before (`expect_`, that id + 1: the same producer and
// key, the next sequence) is in order, and it extends the current run of consecutive ids, which is
// not mixed per item. A run is mixed when it ends if it is short, and else kept as a range
// (in the slot's checksum) for after the run (verify); the sum is the same. Mixing each id had
// been the largest cost of the flood consumer of a fast queue (ring_spsc: 181, 166 and 180 M
// items/s with it, 253, 259 and 291 without, in rounds interleaved with a build that summed the
// ids unmixed). The run and the sum are members of a local object that nothing takes the address
// of, so they live in registers; what runs out of line takes values. The table of each producer's
// next sequence (the slot's next_seq) is written only when items switch producers.
template <bool CheckOrder>
class TakenIds {
 public:
  // Runs shorter than this are mixed when they end; longer ones are kept.
  static constexpr std::uint64_t keep_from = 16;
  // At most this many ranges kept per consumer (16 bytes each): past it, they are mixed then.
  static constexpr std::size_t max_kept = std::size_t{1} << 16;

  explicit TakenIds(ConsumerSlot& slot) : slot_(slot) {}
  // Adds 1 to `out_of_order` when `id` comes before what its producer already delivered.
  QB_ALWAYS_INLINE void take(std::uint64_t id, std::uint64_t& out_of_order) {
    if (id != expect_) [[unlikely]] {
      end_run();
      // Only here, on an id that does not follow the one before: in-order items never reach the
      // order check, so the count costs nothing per item (GCC keeps it on the stack: an add to
      // memory on this path only, in the disassembly of the ring_spsc flood consumer at f93d4f6).
      if constexpr (CheckOrder)
        if (out_of_order_from(id)) ++out_of_order;
      run_ = id;
      expect_ = id;
    }
    ++expect_;
  }
  // After the last item: ends the run and adds the sum to the slot's checksum.
  void finish() {
    end_run();
    slot_.checksum.mixed += sum_;
  }

 private:
  QB_ALWAYS_INLINE void end_run() {
    if (expect_ - run_ >= keep_from) [[unlikely]] {
      keep(slot_, run_, expect_);
    } else {
      sum_ += mix_ids(run_, expect_);
    }
  }
  // Whether `id`, which does not follow the id taken before, comes before what its producer
  // already delivered. The producer seen last and its next sequence are those of expect_. An id
  // of no producer of this run (a corrupt one; the checksum fails it) is not checked.
  QB_ALWAYS_INLINE bool out_of_order_from(std::uint64_t id) {
    if (item_producer(id) == item_producer(expect_))
      return item_seq(id) < item_seq(expect_) && item_producer(id) < slot_.next_seq.size();
    const Switched to = switch_to(slot_.next_seq, expect_, item_producer(id));
    return to.known && item_seq(id) < item_seq(to.next);
  }
  struct Switched {
    std::uint64_t next;  // the id expected next of the producer switched to
    bool known;          // false: the producer is none of this run's
  };
  // Out of line and by value (nothing of the state escapes: it stays in registers). Remembers
  // where the producer seen last got to.
  [[gnu::noinline]] static Switched switch_to(std::vector<std::uint64_t>& next_seq,
                                              std::uint64_t expect, std::uint64_t producer) {
    if (item_producer(expect) < next_seq.size()) next_seq[item_producer(expect)] = item_seq(expect);
    if (producer >= next_seq.size()) return {0, false};
    return {make_item_id(producer, 0, next_seq[producer]), true};
  }
  [[gnu::noinline]] static void keep(ConsumerSlot& slot, std::uint64_t begin, std::uint64_t end) {
    IdSum& sum = slot.checksum;
    if (sum.ranges.size() == max_kept) {  // bounded memory: mixed now, what each item would cost
      for (const IdRange& r : sum.ranges)
        sum.mixed += mix_ids(r.begin, r.end);
      sum.ranges.clear();
    }
    sum.ranges.push_back({begin, end});
  }

  ConsumerSlot& slot_;
  std::uint64_t run_ = 0;     // the current run: [run_, expect_)
  std::uint64_t expect_ = 0;  // producer 0, sequence 0
  std::uint64_t sum_ = 0;     // mix_id over the ended runs that were not kept
};

// Plain items: checks per-producer order, applies keyed items to their key's state, serves.
// Lean: a flood without keys or service time, the loop whose per-item cost a fast queue's figure
// shows; its options are constants, so that everything it changes per item stays in registers.
template <class Q, bool Lean>
void consumer_loop(Shared<Q>& s, std::size_t index) {
  auto& slot = s.consumers[index];
  auto handle = consumer_handle(s.queue, index);
  const RunConfig& cfg = s.cfg;
  ServiceTime service = consumer_service(cfg, index);
  constexpr bool check_order = Q::traits.order != Order::none;
  const bool keyed = !Lean && cfg.keys > 0;
  // Sharded mailboxes route each key to one consumer: its state needs no lock.
  constexpr bool owns_keys = Q::traits.order == Order::per_key;
  const bool serve = !Lean && cfg.service != ServiceDist::none;
  // Progress for the controller: every 64 items in a flood without service time (see
  // producer_loop), else every item (items are paced or take time: the store costs nothing).
  const std::uint64_t publish_mask =
      Lean || (cfg.workload == WorkloadKind::flood && !serve) ? 63 : 0;

  const std::int64_t t0 = s.start.wait(cpu_of(s.pin.consumer_cpu, index));
  const CpuUsage cpu0 = thread_cpu();
  ItemClock clock(slot, cfg, t0);
  const Shutdown shutdown = cfg.shutdown;
  const auto poll = cfg.poll_interval;
  std::uint64_t n = 0;
  typename Q::value_type item;
  std::atomic<std::uint64_t>* const batched = publish_mask ? &slot.consumed : nullptr;
  // No store per item beyond the queue's own: behind a fast queue's store to a contended line,
  // every extra store waits in the store buffer (two plain stores per item halved boost_spsc's
  // bare figure on the 2-core VM). So the sums live in registers until the end, and so does the
  // state of the order check and checksum (TakenIds).
  TakenIds<check_order> taken(slot);
  std::uint64_t out_of_order = 0;
  while (pop_next(s, handle, item, shutdown, poll, batched, n)) {
    clock.taken(item, n);
    taken.take(item.id, out_of_order);
    if (keyed) {
      // Apply the item to its key's state: check per-(producer, key) order, then do the work
      // while holding the key (an actor's handler, or a critical section on a shared queue).
      const std::uint64_t producer = item_producer(item.id);
      const std::uint64_t seq = item_seq(item.id);
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
    // The controller's stop, with the publishing (as the producers check it).
    if ((++n & publish_mask) == 0) {
      slot.consumed.store(n, std::memory_order_relaxed);
      if (s.stop.load(std::memory_order_relaxed)) break;
    }
  }
  taken.finish();
  slot.out_of_order = out_of_order;
  consumer_exit(slot, n, clock, cpu0);
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

// The engine's side of the controller: counters, samples, the shutdown and the abort, compiled
// once (harness/engine.cpp). What needs the queue's type is EngineDriver<Q>'s: a tree's depth,
// closing the queue, a poison pill.
class EngineDriverBase : public Driver {
 public:
  EngineDriverBase(RunState& s, bool tree, bool paced, std::uint64_t units_per_item,
                   std::int64_t t0, std::vector<Sample>* samples)
      : s_(s), tree_(tree), paced_(paced), units_(units_per_item), t0_(t0), samples_(samples) {}
  Published poll() override;
  void on_tick(const Published& p, std::int64_t now, std::uint64_t rss) override;
  [[nodiscard]] bool ready_to_shut_down(const Published& p) const override;
  void shut_down(std::int64_t now) override;
  void abort() override;
  [[nodiscard]] bool stuck(const Published& p) const override;
  [[nodiscard]] std::string stall_detail(const Published& p, std::int64_t stall_ns,
                                         bool after_shutdown) const override;
  [[nodiscard]] std::int64_t shutdown_grace_ns() const override;

 protected:
  [[nodiscard]] virtual std::uint64_t queue_size() const = 0;  // approx_size()
  virtual void close_queue() = 0;
  // False: the queue is full (the pill goes again on the next tick).
  virtual bool push_pill(std::uint64_t id, std::int64_t now) = 0;

 private:
  void send_pills(std::int64_t now);

  RunState& s_;
  bool tree_;
  bool paced_;
  std::uint64_t units_;  // nodes per item: 1, or a tree's nodes per root
  std::int64_t t0_;
  std::vector<Sample>* samples_;
  std::size_t pills_left_ = 0;
};

template <class Q>
class EngineDriver final : public EngineDriverBase {
 public:
  EngineDriver(Shared<Q>& s, bool tree, bool paced, std::uint64_t units_per_item, std::int64_t t0,
               std::vector<Sample>* samples)
      : EngineDriverBase(s, tree, paced, units_per_item, t0, samples), q_(s.queue) {}

 private:
  [[nodiscard]] std::uint64_t queue_size() const override { return q_.approx_size(); }
  void close_queue() override { q_.close(); }
  bool push_pill(std::uint64_t id, std::int64_t now) override {
    return q_.try_push(typename Q::value_type{id, now, now});
  }
  Q& q_;
};

// The sum over [0, n) of what part(from, to) sums over [from, to), split over the machine's cores
// when n is large (part is then called from several threads at once).
std::uint64_t sum_in_parallel(
    std::uint64_t n, const std::function<std::uint64_t(std::uint64_t, std::uint64_t)>& part);
// Before the threads start: the pin plan, the consumers' order table and time series.
void prepare(RunResult& r, RunState& s);
// Merges the per-thread slots into the result, with the time series' latency per interval.
void merge(RunResult& r, RunState& s, const ControlOutcome& o, std::int64_t t0,
           std::vector<Sample>& samples);
// (sum of mix_ids over `plus`) - (sum of mix_ids over `minus`), modulo 2^64, mixing only the ids
// that are not in as many ranges of one side as of the other: a sweep over the ranges' ends
// weighs each stretch between two ends by how many more ranges of `plus` than of `minus` cover it.
// When the two sides cover the same ids (a consumer took each producer's items in long runs), it
// mixes nothing; what it mixes is split over the cores.
std::uint64_t mixed_difference(const std::vector<IdRange>& plus, const std::vector<IdRange>& minus);
// Whether the two checksums are equal (a.mixed + a's ranges == b.mixed + b's ranges).
bool same_checksum(const IdSum& a, const IdSum& b);
// Every accepted item (tree: every node of every accepted root) consumed once, in the order the
// queue promises (`order`), with the checksum of the ids that went in.
void verify(RunResult& r, RunState& s, Order order, bool tree, const IdSum& produced,
            std::uint64_t units);

// The checksum the consumers' sums must match: every item the producers offered, each producer's
// ids drawn again as its loop drew them, less what the queue refused. Made after the run, so that a
// producer's loop does nothing per item for it. Consecutive ids (no keys) are one range per
// producer, which verify weighs against the consumers' ranges without mixing what both cover;
// other ids are mixed here, about 1 ns of CPU per item (a tree root: its nodes'), outside the
// measured time, split over the cores where the ids allow it.
template <class Ids>
IdSum produced_checksum(const RunState& s) {
  IdSum sum;
  for (std::size_t p = 0; p < s.producers.size(); ++p) {
    const auto offered_part = [&s, p](std::uint64_t from, std::uint64_t to) {
      Ids ids(s.cfg, p);
      std::uint64_t part = 0;
      for (std::uint64_t seq = from; seq < to; ++seq)
        part += ids.checksum(ids.id(p, seq));
      return part;
    };
    const Ids ids(s.cfg, p);
    const std::uint64_t offered = s.producers[p].offered.load(std::memory_order_relaxed);
    if (const std::optional<IdRange> range = ids.offered_range(p, offered)) {
      sum.ranges.push_back(*range);
    } else {
      sum.mixed +=
          ids.any_order() ? sum_in_parallel(offered, offered_part) : offered_part(0, offered);
    }
    sum.mixed -= s.producers[p].refused_checksum;
  }
  return sum;
}

// Runs one configuration: Work is the item source and consumer loop (plain items, or a tree's
// roots and its fork/join consumers, harness/tree.hpp). Never hangs: a stall, the memory cap or
// an interrupt ends the run with that verdict.
template <class Q, class Schedule, class Work>
RunResult run_workload(const RunConfig& cfg) {
  if (Work::tree != (cfg.workload == WorkloadKind::tree))
    throw std::invalid_argument("run_workload: the work does not match the configured workload");
  RunResult r;
  r.config = cfg;
  r.traits = Q::traits;
  r.oversubscribed = cfg.producers + cfg.consumers > online_cores();
  const std::uint64_t units = Work::units_per_item(cfg);
  const QueueOptions opts{.capacity = cfg.capacity,
                          .producers = cfg.producers + Work::extra_producers(cfg),
                          .consumers = cfg.consumers};
  const RssWindow memory;  // before the run allocates its queue and state
  auto shared = std::make_shared<Shared<Q>>(cfg, opts);
  Shared<Q>& s = *shared;
  prepare(r, s);

  Workers workers;
  for (std::size_t i = 0; i < cfg.consumers; ++i)
    workers.add(std::thread([shared, i] { Work::consume(*shared, i); }), s.consumers[i].done);
  for (std::size_t i = 0; i < cfg.producers; ++i) {
    auto sched = make_schedule<Schedule>(cfg, i);
    workers.add(std::thread([shared, i, sched] {
                  producer_loop<Q, Schedule, typename Work::Ids>(*shared, i, sched);
                }),
                s.producers[i].done);
  }
  const std::int64_t t0 = s.start.go();
  std::vector<Sample> samples;
  if (cfg.keep_samples) samples.reserve(s.consumers.front().timeline.size() + 16);
  EngineDriver<Q> driver(s, Work::tree, Schedule::paced, units, t0,
                         cfg.keep_samples ? &samples : nullptr);
  const ControlOutcome o = control(driver, workers,
                                   {.t0 = t0,
                                    .interval_ns = s.cfg.sample_interval.count(),
                                    .stall_ns = cfg.stall_timeout.count(),
                                    .max_rss_bytes = cfg.max_rss_bytes});
  r.verdict = o.verdict;
  r.detail = o.detail;
  if (o.abandoned) {  // their slots may still be written: report what the controller saw
    report_published(r, o, t0, now_ns());
    return r;
  }
  merge(r, s, o, t0, samples);
  memory.close(r);
  if constexpr (HasWaitStats<Q>) r.wait_stats = s.queue.stats();
  if (r.verdict == Verdict::ok) {
    verify(r, s, Q::traits.order, Work::tree, produced_checksum<typename Work::Ids>(s), units);
  } else if (r.verdict == Verdict::stalled && r.consumed < r.accepted * units) {
    r.lost = r.accepted * units - r.consumed;  // stranded in the queue when the run was ended
  }
  return r;
}

// Plain items: the flood, steady and burst workloads.
struct PlainWork {
  static constexpr bool tree = false;
  using Ids = PlainIds;
  static std::uint64_t units_per_item(const RunConfig&) { return 1; }
  static std::size_t extra_producers(const RunConfig&) { return 0; }
  template <class Q>
  static void consume(Shared<Q>& s, std::size_t index) {
    const RunConfig& cfg = s.cfg;
    if (cfg.workload == WorkloadKind::flood && cfg.keys == 0 && cfg.service == ServiceDist::none) {
      consumer_loop<Q, true>(s, index);
    } else {
      consumer_loop<Q, false>(s, index);
    }
  }
};

}  // namespace engine_detail

// Runs one configuration of plain items on queue type Q with arrival schedule S.
template <class Q, class Schedule>
RunResult run_engine(const RunConfig& cfg) {
  return engine_detail::run_workload<Q, Schedule, engine_detail::PlainWork>(cfg);
}

}  // namespace qb
