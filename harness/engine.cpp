// The engine's code that is not per item, compiled once (harness/engine.hpp): the threads' shared
// state, the driver's counters and shutdown, and what is made of the slots after the run.
#include "harness/engine.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace qb::engine_detail {

RunState::RunState(const RunConfig& c)
    : cfg(c),
      producers(c.producers),
      consumers(c.consumers),
      key_stride((c.producers + 7) / 8 * 8),
      start(c.producers + c.consumers) {
  if (c.keys) {
    key_locks = std::make_unique<KeyLock[]>(c.keys);
    key_next.assign(c.keys * key_stride, 0);
  }
}

Published EngineDriverBase::poll() {
  Published p;
  std::size_t producers_done = 0, consumers_done = 0;
  for (auto& slot : s_.producers) {
    p.offered += slot.offered.load(std::memory_order_relaxed);
    p.accepted += slot.accepted.load(std::memory_order_relaxed);
    p.refused += slot.refused.load(std::memory_order_relaxed);
    producers_done += slot.done.load(std::memory_order_acquire);
  }
  for (auto& slot : s_.consumers) {
    p.consumed += slot.consumed.load(std::memory_order_relaxed);
    consumers_done += slot.done.load(std::memory_order_acquire);
  }
  p.expected = p.accepted * units_;
  // Trees: nodes spawned and waiting are in the queue; plain items: accepted, not consumed.
  p.depth = tree_ ? queue_size() : p.owed();
  p.producers_done = producers_done == s_.producers.size();
  p.finished = consumers_done == s_.consumers.size();
  return p;
}

void EngineDriverBase::on_tick(const Published& p, std::int64_t now, std::uint64_t rss) {
  const RunConfig& cfg = s_.cfg;
  if (samples_) {
    // Inside a burst window of the schedule (none after the producers' planned end).
    const bool burst = cfg.workload == WorkloadKind::burst &&
                       (cfg.items ? !p.producers_done : now - t0_ < cfg.duration.count()) &&
                       (now - t0_) % cfg.period.count() < cfg.burst.count();
    samples_->push_back(Sample{static_cast<double>(now - t0_) * 1e-9, p.depth, rss, p.consumed,
                               p.accepted, p.refused, burst, 0, 0, 0});
  }
  send_pills(now);
}

// A tree is finished when every node of every accepted root has run.
bool EngineDriverBase::ready_to_shut_down(const Published& p) const {
  return !tree_ || p.consumed >= p.expected;
}

void EngineDriverBase::shut_down(std::int64_t now) {
  switch (s_.cfg.shutdown) {
    case Shutdown::close:
      close_queue();  // consumers drain what is left, then see closed
      break;
    case Shutdown::poison:
      pills_left_ = s_.cfg.consumers;
      send_pills(now);
      break;
    case Shutdown::poll:
      // release: consumers that see it also see that every producer is done.
      s_.shutdown_requested.store(true, std::memory_order_release);
      break;
  }
}

void EngineDriverBase::abort() {
  s_.stop.store(true, std::memory_order_relaxed);
  close_queue();
}

// Unpaced producers publish every 64 items, so a push that never returns may not show as offered
// and unanswered; but they never wait for a schedule either: while they run, no progress is a
// stall.
bool EngineDriverBase::stuck(const Published& p) const {
  return Driver::stuck(p) || (!paced_ && !p.producers_done);
}

std::string EngineDriverBase::stall_detail(const Published& p, std::int64_t stall_ns,
                                           bool after_shutdown) const {
  std::string d = Driver::stall_detail(p, stall_ns, after_shutdown);
  if (tree_) {  // trees count nodes
    const auto at = d.find(" items in the queue");
    if (at != std::string::npos) d.replace(at, 19, " nodes to run");
  }
  return d;
}

std::int64_t EngineDriverBase::shutdown_grace_ns() const {
  return s_.cfg.shutdown == Shutdown::poll ? s_.cfg.poll_interval.count() : 0;
}

// Poison pills go in after the last item, without blocking the controller: what a full queue
// refuses is sent again on the next tick.
void EngineDriverBase::send_pills(std::int64_t now) {
  while (pills_left_ && push_pill(poison_pill(s_.cfg.consumers - pills_left_), now))
    --pills_left_;
}

namespace {

// Timeline length: the planned duration plus room for the drain; later items share the last.
// Only a run that keeps its time series needs one (each interval costs 664 bytes per consumer,
// which would otherwise show up in the run's peak RSS).
std::size_t planned_intervals(const RunConfig& cfg) {
  static_assert(sizeof(IntervalLatency) <= 664, "see planned_intervals");
  if (!cfg.keep_samples) return 1;
  if (cfg.items) return 6000;
  return static_cast<std::size_t>(
      std::min<std::int64_t>(cfg.duration.count() / cfg.sample_interval.count() * 2 + 100, 60'000));
}

}  // namespace

void prepare(RunResult& r, RunState& s) {
  RunConfig& cfg = s.cfg;
  cfg.sample_interval =
      std::max<std::chrono::nanoseconds>(cfg.sample_interval, std::chrono::milliseconds(1));
  if (cfg.pin) {
    s.pin = plan_placement(cfg.producers, cfg.consumers, machine_topology(), cfg.placement);
    r.pinning = describe(s.pin);
  }
  for (auto& c : s.consumers) {
    c.next_seq.assign(cfg.producers, 0);
    c.timeline.assign(planned_intervals(cfg), IntervalLatency{});
  }
  r.rss_before = current_rss_bytes();
}

void merge(RunResult& r, RunState& s, const ControlOutcome& o, std::int64_t t0,
           std::vector<Sample>& samples) {
  std::int64_t last_producer_exit = t0, last_consumer_exit = t0, last_item = t0;
  std::int64_t last_intended = t0;
  for (auto& p : s.producers) {
    r.offered += p.offered.load(std::memory_order_relaxed);
    r.accepted += p.accepted.load(std::memory_order_relaxed);
    r.rejected += p.rejected;
    r.dropped += p.dropped;
    r.lag.merge(p.lag);
    r.cpu_producers += p.cpu;
    r.cpu_pacing_s += static_cast<double>(p.pacing_cpu_ns) * 1e-9;
    last_producer_exit = std::max(last_producer_exit, p.exit_ns);
    last_intended = std::max(last_intended, p.last_intended_ns);
  }
  std::vector<IntervalLatency> timeline(s.consumers.front().timeline.size());
  for (auto& c : s.consumers) {
    r.consumed += c.count;
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
  if (o.shutdown_at && r.verdict == Verdict::ok)
    r.shutdown_s = std::max(0.0, static_cast<double>(last_consumer_exit - o.shutdown_at) * 1e-9);
  r.produce_s = static_cast<double>(last_producer_exit - t0) * 1e-9;
  r.elapsed_s = static_cast<double>(std::max(last_item, last_producer_exit) - t0) * 1e-9;
  r.span_s = static_cast<double>(last_consumer_exit - t0) * 1e-9;
  r.drain_s = std::max(0.0, r.elapsed_s - r.produce_s);
  r.schedule_s = static_cast<double>(last_intended - t0) * 1e-9;
  r.peak_depth = o.peak_depth;
  r.median_depth = o.median_depth;
  r.depth_samples = o.depth_samples;
  const std::int64_t interval = s.cfg.sample_interval.count();
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

std::uint64_t sum_in_parallel(
    std::uint64_t n, const std::function<std::uint64_t(std::uint64_t, std::uint64_t)>& part) {
  // A few milliseconds of work at least per thread: below that, starting one costs more.
  constexpr std::uint64_t min_chunk = std::uint64_t{1} << 22;
  const std::uint64_t chunks = std::clamp<std::uint64_t>(n / min_chunk, 1, online_cores());
  if (chunks == 1) return part(0, n);
  std::vector<std::uint64_t> sums(chunks);
  const auto bound = [n, chunks](std::uint64_t i) { return i == chunks ? n : n / chunks * i; };
  {
    std::vector<std::jthread> threads;
    for (std::uint64_t i = 1; i < chunks; ++i)
      threads.emplace_back([&, i] { sums[i] = part(bound(i), bound(i + 1)); });
    sums[0] = part(0, bound(1));
  }  // joined
  return std::accumulate(sums.begin(), sums.end(), std::uint64_t{0});
}

std::uint64_t mixed_difference(const std::vector<IdRange>& plus,
                               const std::vector<IdRange>& minus) {
  struct End {
    std::uint64_t at;
    std::int64_t weight;  // what it adds to the cover from `at` on
  };
  std::vector<End> ends;
  ends.reserve(2 * (plus.size() + minus.size()));
  for (const IdRange& r : plus)
    if (r.begin < r.end) ends.insert(ends.end(), {{r.begin, 1}, {r.end, -1}});
  for (const IdRange& r : minus)
    if (r.begin < r.end) ends.insert(ends.end(), {{r.begin, -1}, {r.end, 1}});
  std::sort(ends.begin(), ends.end(), [](const End& a, const End& b) { return a.at < b.at; });
  std::uint64_t diff = 0;
  std::int64_t cover = 0;  // ranges of `plus` less ranges of `minus` over [from, the next end)
  std::uint64_t from = 0;
  for (const End& e : ends) {
    if (cover != 0 && e.at > from)
      diff += static_cast<std::uint64_t>(cover) *
              sum_in_parallel(e.at - from, [from](std::uint64_t f, std::uint64_t t) {
                return mix_ids(from + f, from + t);
              });
    cover += e.weight;
    from = e.at;
  }
  return diff;
}

bool same_checksum(const IdSum& a, const IdSum& b) {
  return a.mixed + mixed_difference(a.ranges, b.ranges) == b.mixed;
}

void verify(RunResult& r, RunState& s, Order order, bool tree, const IdSum& produced,
            std::uint64_t units) {
  const RunConfig& cfg = s.cfg;
  IdSum consumed;
  for (const auto& c : s.consumers) {
    consumed.mixed += c.checksum.mixed;
    consumed.ranges.insert(consumed.ranges.end(), c.checksum.ranges.begin(),
                           c.checksum.ranges.end());
  }
  Verifier v;
  v.counts(r.accepted * units, r.consumed, tree ? "nodes" : "items", r.lost, r.duplicated);
  v.checksum(same_checksum(produced, consumed), r.checksum_ok);
  v.order(r.out_of_order);
  v.pinned(s.start.pin_failed(), r.pinning);
  if (order == Order::per_key && r.key_reorders)
    v.fail(std::to_string(r.key_reorders) + " items applied out of per-key order");
  // A consumer that got nothing while the others shared plenty was starved. Only in a run long
  // enough that the scheduler alone cannot explain it (on an oversubscribed machine a runnable
  // thread can wait tens of milliseconds for a core, and a short run can end before it gets one).
  // Not with keyed mailboxes (a consumer whose mailbox owns no key gets nothing by design), nor
  // in a tree (a consumer that spawns children may run a whole short tree before another one
  // wakes up: that is scheduling, not a lost consumer).
  if (order != Order::per_key && !tree && r.consumed >= starved_if_none_of * cfg.consumers &&
      r.elapsed_s >= starved_after_s) {
    for (auto& c : s.consumers)
      r.starved_consumers += c.count == 0;
    if (r.starved_consumers) v.fail(std::to_string(r.starved_consumers) + " consumers starved");
  }
  v.settle(r.verdict, r.detail);
}

}  // namespace qb::engine_detail
