// Google Benchmark: what writing each item costs a fast queue's flood, by how the producer writes
// it (core/item.hpp). One producer (this thread) and one consumer, pinned to the first two CPUs
// this process may use, a ring of 65,536 slots; the consumer pops and sums the ids, the sum is
// checked at the end. One iteration = one item pushed.
//
//   flood_item/<queue>/<bytes>/whole   each item built anew, `V{id, intended, pushed}`: every
//                                      lane stored, then copied into the ring
//   flood_item/<queue>/<bytes>/stamp   one item kept for the run, `stamp(v, id, ...)` per item:
//                                      the first lanes rewritten (what qbench run and bare do)
//   flood_item/<queue>/<bytes>/field   one item kept, its id field assigned: an 8-byte store
//                                      that the queue's 16-byte copy load spans (a failed store
//                                      forward per push)
//
// Compare the three within one invocation, interleaved, on a quiet machine:
//   qb_item_bench --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true
//                 --benchmark_report_aggregates_only=true   (one command line)
// Smoke run (CTest): `qb_item_bench --benchmark_min_time=0.001`; fails on a wrong sum only (a
// consumer that finds nothing for 10 s after the producer finished gives up: nothing hangs).
#include <benchmark/benchmark.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include "core/item.hpp"
#include "queues/boost_spsc.hpp"
#include "queues/ring_spsc.hpp"

namespace {

constexpr std::size_t kCapacity = 65536;
constexpr std::chrono::seconds kGiveUp{10};
std::atomic<int> g_failures{0};

enum class How { whole, stamp, field };

// The CPUs this process may run on, read once before any thread is pinned; the first two carry
// the producer and the consumer (-1: fewer than two, not pinned).
struct Cpus {
  cpu_set_t allowed;
  int producer = -1, consumer = -1;
};
const Cpus& cpus() {
  static const Cpus c = [] {
    Cpus r;
    CPU_ZERO(&r.allowed);
    if (sched_getaffinity(0, sizeof r.allowed, &r.allowed) != 0) return r;
    for (int cpu = 0; cpu < CPU_SETSIZE && r.consumer < 0; ++cpu) {
      if (!CPU_ISSET(cpu, &r.allowed)) continue;
      (r.producer < 0 ? r.producer : r.consumer) = cpu;
    }
    if (r.consumer < 0) r.producer = -1;
    return r;
  }();
  return c;
}
// Pins the calling thread to `cpu`, or back to every allowed CPU (-1).
void pin_to(int cpu) {
  if (cpus().producer < 0) return;
  cpu_set_t set = cpus().allowed;
  if (cpu >= 0) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
  }
  sched_setaffinity(0, sizeof set, &set);
}

template <template <class> class Ring, std::size_t N, How H>
void bm_flood_item(benchmark::State& state) {
  using V = qb::Carried<N>;
  Ring<V> q(qb::QueueOptions{.capacity = kCapacity, .producers = 1, .consumers = 1});
  std::atomic<bool> ready{false};
  std::atomic<std::uint64_t> pushed{~std::uint64_t{0}};  // the count, once the producer is done
  std::uint64_t sum = 0;
  std::thread consumer([&] {
    pin_to(cpus().consumer);
    ready.store(true, std::memory_order_release);
    V item;
    std::uint64_t n = 0, s = 0;
    std::chrono::steady_clock::time_point give_up{};  // set once the producer is done
    for (;;) {
      if (q.try_pop(item)) {
        s += item.id;
        ++n;
        continue;
      }
      const std::uint64_t total = pushed.load(std::memory_order_acquire);
      if (n == total) break;
      if (total == ~std::uint64_t{0}) continue;
      // A ring that lost an item never delivers the count: the sum check fails, nothing hangs.
      const auto now = std::chrono::steady_clock::now();
      if (give_up == std::chrono::steady_clock::time_point{}) give_up = now + kGiveUp;
      if (now > give_up) break;
    }
    sum = s;
  });
  pin_to(cpus().producer);
  while (!ready.load(std::memory_order_acquire)) {
  }
  V kept{0, 0, 0};
  std::uint64_t seq = 0, expected = 0;
  for (auto _ : state) {
    if constexpr (H == How::whole) {
      const V item{seq, 0, 0};
      while (!q.try_push(item)) {
      }
    } else {
      if constexpr (H == How::stamp) {
        qb::stamp(kept, seq, 0, 0);
      } else {
        kept.id = seq;
      }
      while (!q.try_push(kept)) {
      }
    }
    expected += seq++;
  }
  pushed.store(seq, std::memory_order_release);
  consumer.join();
  pin_to(-1);
  if (sum != expected) {
    state.SkipWithError("the consumer's sum of ids is not what was pushed");
    g_failures.fetch_add(1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
  state.SetBytesProcessed(static_cast<std::int64_t>(seq * N));
}

template <template <class> class Ring, std::size_t N>
void register_size(const char* queue) {
  const std::string base = std::string("flood_item/") + queue + "/" + std::to_string(N) + "/";
  benchmark::RegisterBenchmark((base + "whole").c_str(), bm_flood_item<Ring, N, How::whole>)
      ->UseRealTime();
  benchmark::RegisterBenchmark((base + "stamp").c_str(), bm_flood_item<Ring, N, How::stamp>)
      ->UseRealTime();
  benchmark::RegisterBenchmark((base + "field").c_str(), bm_flood_item<Ring, N, How::field>)
      ->UseRealTime();
}
// Every size a queue is built for (core/item.hpp: item_sizes).
template <template <class> class Ring, std::size_t... N>
void register_sizes(const char* queue, std::index_sequence<N...>) {
  (register_size<Ring, N>(queue), ...);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Cpus& c = cpus();  // before any benchmark pins a thread
  benchmark::AddCustomContext(
      "pinned_cpus", c.producer < 0
                         ? std::string("none (fewer than two CPUs)")
                         : "p:" + std::to_string(c.producer) + " c:" + std::to_string(c.consumer));
  benchmark::AddCustomContext("queue_capacity", std::to_string(kCapacity));
  register_sizes<qb::RingSpsc>("ring_spsc", qb::ItemSizes{});
  register_sizes<qb::BoostSpsc>("boost_spsc", qb::ItemSizes{});
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (const int n = g_failures.load()) {
    std::fprintf(stderr, "qb_item_bench: %d benchmark run(s) failed\n", n);
    return 1;
  }
  return 0;
}
