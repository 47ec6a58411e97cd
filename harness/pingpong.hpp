// The pingpong workload: a queue's latency floor. Two threads and two queues of the same type
// with one item in flight: the client pushes an item into `ping` and waits for it on `pong`; the
// server pops it from `ping`, does the configured work and pushes it into `pong`. Each round trip
// is two hand-offs, each one a cache-line transfer between the cores at best, and is timed by the
// client: one clock read per round trip (the end of one is the start of the next), so a sample
// includes one clock read (its cost is in the context columns; `qbench calibrate` measures the
// bare atomic round trip the same way).
//
// Closed loop on purpose: the next item leaves when the previous one is back, so there is no
// intended-time schedule to fall behind (no coordinated omission to correct): the latency
// columns are the round-trip distribution, the throughput is round trips per second.
//
// Verification: the server checks that items arrive in sequence; the client that each one comes
// back unchanged. The run ends after --items round trips or the duration; a stall is detected by
// the controller (no round trip for --stall-timeout), which closes both queues.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/run_config.hpp"
#include "harness/affinity.hpp"
#include "harness/controller.hpp"
#include "harness/engine.hpp"
#include "harness/system_info.hpp"
#include "harness/topology.hpp"
#include "queues/concept.hpp"
#include "results/histogram.hpp"
#include "results/run_result.hpp"
#include "workloads/service.hpp"

namespace qb {

namespace pingpong_detail {

template <class Q>
struct State {
  explicit State(const RunConfig& c)
      : cfg(c),
        ping(QueueOptions{.capacity = c.capacity, .producers = 1, .consumers = 1}),
        pong(QueueOptions{.capacity = c.capacity, .producers = 1, .consumers = 1}) {}
  RunConfig cfg;
  alignas(detail::false_sharing_block) Q ping;  // each queue on blocks of its own (spin.hpp)
  alignas(detail::false_sharing_block) Q pong;
  alignas(detail::false_sharing_block) StartLine start{2};
  std::atomic<bool> stop{false};
  PinPlan pin;
  // Client (its own line): round trips done, published for the controller.
  alignas(detail::cache_line) std::atomic<std::uint64_t> trips{0};
  std::atomic<bool> client_done{false};
  std::uint64_t sent = 0;
  std::uint64_t mismatched = 0;
  std::int64_t client_exit_ns = 0;
  std::int64_t last_trip_ns = 0;
  Histogram rtt;
  CpuUsage client_cpu;
  // Server (its own line).
  alignas(detail::cache_line) std::atomic<bool> server_done{false};
  std::uint64_t served = 0;
  std::uint64_t out_of_order = 0;
  std::int64_t server_exit_ns = 0;
  CpuUsage server_cpu;
};

// A push of the one item in flight: the queue's own non-blocking push first, inlined, so that the
// item goes from registers into the ring; its waiting push only when that refuses (full, closed).
// Through the waiting push alone, an out-of-line call, the client's item was built on the stack
// with an 8- and a 16-byte store and copied into the ring with a 16- and an 8-byte load: a failed
// store forward on every round trip, which the bare reference (try_push inlined) does not pay.
// False: closed.
template <class H, class V>
QB_ALWAYS_INLINE inline bool push_one(H& out, const V& item) {
  return out.try_push(item) || out.push(item, forever) == QueueStatus::ok;
}

template <class Q>
void client_loop(State<Q>& s) {
  const RunConfig& cfg = s.cfg;
  // The client closes `ping` itself, after its last push.
  auto out = producer_handle(s.ping, 0, CloseRace::after_pushes);
  auto back = consumer_handle(s.pong, 0);
  const std::int64_t t0 = s.start.wait(cpu_of(s.pin.producer_cpu, 0));
  const std::int64_t end = cfg.items ? INT64_MAX : t0 + cfg.duration.count();
  const std::uint64_t quota = cfg.items ? cfg.items : item_seq_mask;
  const CpuUsage cpu0 = thread_cpu();
  // Nothing of the harness between an answer and the next push: the clock is read right after
  // the push, and that read ends one round trip and starts the next (a round trip is the time
  // between two reads, one whole cycle of the loop, wherever in the cycle the read sits). Read
  // before the push, rdtscp (harness/clock.hpp) held the push back until the pop's last locked
  // instruction had retired, and the push needed its result for the item's time: about twice the
  // clock's cost in a loop of reads (docs/floor/README.md has the measurements). After the push,
  // that wait overlaps the item's flight. The bookkeeping of trip k (histogram, check,
  // progress) is done while item k+1 is in flight, so a round trip carries one clock read and
  // nothing else of the harness. An item carries the time of the read before it (the end check
  // is one round trip late; the server does not look at the times).
  std::int64_t t = now_ns();
  std::uint64_t seq = 0;
  const auto send = [&](std::uint64_t n, std::int64_t at) {
    if (n >= quota || at >= end || s.stop.load(std::memory_order_relaxed)) return false;
    const typename Q::value_type item{make_item_id(0, 0, n), at, at};
    if (!push_one(out, item)) return false;
    s.sent = n + 1;
    return true;
  };
  for (bool in_flight = send(seq, t); in_flight; ++seq) {
    typename Q::value_type answer;
    if (back.pop(answer, forever) != QueueStatus::ok) break;
    in_flight = send(seq + 1, t);
    const std::int64_t t1 = now_ns();
    s.rtt.record(t1 - t);
    if (answer.id != make_item_id(0, 0, seq)) ++s.mismatched;
    t = t1;
    s.last_trip_ns = t1;
    // relaxed: a progress counter for the controller's watchdog; nothing is read through it.
    s.trips.store(seq + 1, std::memory_order_relaxed);
  }
  s.client_cpu = thread_cpu() - cpu0;
  s.client_exit_ns = now_ns();
  s.ping.close();  // the server drains nothing more and sees closed
  // release: the controller's acquire load of client_done sees every field written above.
  s.client_done.store(true, std::memory_order_release);
}

template <class Q>
void server_loop(State<Q>& s) {
  const RunConfig& cfg = s.cfg;
  auto in = consumer_handle(s.ping, 0);
  // `pong` is closed by the controller once the client is done, and the client is done only
  // after it has taken the answer to its last item: no push of the server races that close.
  auto out = producer_handle(s.pong, 0, CloseRace::after_pushes);
  ServiceTime service(cfg.service, cfg.service_time.count(), cfg.service_mode, cfg.seed * 7919);
  const bool serve = cfg.service != ServiceDist::none;
  s.start.wait(cpu_of(s.pin.consumer_cpu, 0));
  const CpuUsage cpu0 = thread_cpu();
  std::uint64_t n = 0;
  typename Q::value_type item;
  while (in.pop(item, forever) == QueueStatus::ok) {
    if (serve) service.serve();
    if (!push_one(out, item)) break;
    if (item_seq(item.id) != n) ++s.out_of_order;  // checked while the answer is in flight
    ++n;
  }
  s.served = n;
  s.server_cpu = thread_cpu() - cpu0;
  s.server_exit_ns = now_ns();
  // release: the controller's acquire load of server_done sees every field written above.
  s.server_done.store(true, std::memory_order_release);
}

// Pingpong's side of the controller: round trips are the progress; when the client is done, the
// server is released from `pong`.
template <class Q>
class PingpongDriver final : public Driver {
 public:
  explicit PingpongDriver(State<Q>& s) : s_(s) {}
  Published poll() override {
    Published p;
    p.consumed = p.offered = p.accepted = p.expected = s_.trips.load(std::memory_order_relaxed);
    p.producers_done = s_.client_done.load(std::memory_order_acquire);
    p.finished = p.producers_done && s_.server_done.load(std::memory_order_acquire);
    return p;
  }
  void shut_down(std::int64_t) override {
    s_.pong.close();  // nothing more will be answered; a server blocked in push returns
  }
  void abort() override {
    s_.stop.store(true, std::memory_order_relaxed);
    s_.ping.close();
    s_.pong.close();
  }
  // One item is always in flight: a round trip that does not come back is a stall.
  [[nodiscard]] bool stuck(const Published&) const override { return true; }
  [[nodiscard]] std::string stall_detail(const Published& p, std::int64_t stall_ns,
                                         bool after_shutdown) const override {
    if (after_shutdown) return Driver::stall_detail(p, stall_ns, after_shutdown);
    return "no round trip for " + std::to_string(stall_ns / 1'000'000) + " ms after " +
           std::to_string(p.consumed) + " round trips";
  }

 private:
  State<Q>& s_;
};

}  // namespace pingpong_detail

template <class Q>
RunResult run_pingpong(const RunConfig& cfg) {
  using namespace pingpong_detail;
  RunResult r;
  r.config = cfg;
  r.traits = Q::traits;
  r.oversubscribed = 2 > online_cores();
  const RssWindow memory;  // before the run allocates its queues and state
  auto shared = std::make_shared<State<Q>>(cfg);
  State<Q>& s = *shared;
  if (cfg.pin) {
    s.pin = plan_placement(1, 1, machine_topology(), cfg.placement);
    r.pinning = describe(s.pin);
  }
  r.rss_before = current_rss_bytes();
  Workers workers;
  workers.add(std::thread([shared] { server_loop(*shared); }), s.server_done);
  workers.add(std::thread([shared] { client_loop(*shared); }), s.client_done);
  const std::int64_t t0 = s.start.go();
  PingpongDriver<Q> driver(s);
  const ControlOutcome o = control(driver, workers,
                                   {.t0 = t0,
                                    .interval_ns = cfg.sample_interval.count(),
                                    .stall_ns = cfg.stall_timeout.count()});
  r.verdict = o.verdict;
  r.detail = o.detail;
  if (o.abandoned) {
    report_published(r, o, t0, now_ns());
    return r;
  }

  const std::uint64_t trips = s.trips.load(std::memory_order_relaxed);
  r.offered = s.sent;
  r.accepted = s.sent;
  r.consumed = trips;
  r.latency = s.rtt;
  r.cpu_producers = s.client_cpu;
  r.cpu_consumers = s.server_cpu;
  r.elapsed_s = static_cast<double>(std::max(s.last_trip_ns, t0) - t0) * 1e-9;
  r.produce_s = static_cast<double>(s.client_exit_ns - t0) * 1e-9;
  r.span_s = static_cast<double>(std::max(s.client_exit_ns, s.server_exit_ns) - t0) * 1e-9;
  r.drain_s = std::max(0.0, r.span_s - r.produce_s);
  r.peak_depth = r.median_depth = 1;  // exact: one item in flight
  r.depth_samples = o.depth_samples;
  memory.close(r);
  r.out_of_order = s.out_of_order;

  if (r.verdict != Verdict::ok) return r;
  // Every item sent came back, once: the server served what the client sent, and the client got
  // as many answers (a last item can be in flight only when the run was ended early).
  Verifier v;
  if (s.served != s.sent || trips != s.sent) {
    if (trips < s.sent) r.lost = s.sent - trips;
    if (s.served > s.sent) r.duplicated = s.served - s.sent;
    v.fail("sent " + std::to_string(s.sent) + ", served " + std::to_string(s.served) +
           ", answered " + std::to_string(trips));
  }
  if (s.mismatched) {
    r.checksum_ok = false;
    v.fail(std::to_string(s.mismatched) + " answers were not the item sent");
  }
  v.order(s.out_of_order, "order");
  v.pinned(s.start.pin_failed(), r.pinning);
  v.settle(r.verdict, r.detail);
  return r;
}

}  // namespace qb
