// Google Benchmark microbenchmarks: the cost of one operation on every registered queue.
//
// Every benchmark is instantiated from qb::AllQueues<qb::Item> (queues/all_queues.hpp), so a
// queue added there is benchmarked here with no edit. Three shapes per queue:
//
//   push_pop/<queue>                   one thread: try_push then try_pop through the handles,
//                                      on an otherwise empty queue. No contention, no waiting.
//   pingpong/<queue>/real_time         two threads, two queues, one item in flight: this thread
//                                      pushes to `there` and pops from `back`, a partner thread
//                                      pops `there` and pushes `back`. Blocking push/pop with
//                                      qb::forever, so the queue's own waiting (condition
//                                      variable, spin, yield, sleep-polling, futex parking) is
//                                      what is measured. One iteration = one round trip.
//   contended/<queue>/real_time/threads:N
//                                      N benchmark threads share one queue; each pushes one item
//                                      and then pops one per iteration, so the queue neither
//                                      fills nor empties. try_push/try_pop retried with a pause
//                                      (no blocking wait: mutex_cv_one cannot deadlock here), so
//                                      this is the cost of the try-operations under contention;
//                                      the wait strategy only adds its per-operation bookkeeping
//                                      (park's notify, the close gate).
//
// Threaded shapes use wall-clock time (UseRealTime): the partner's and the other threads' work
// is the point, and a thread asleep in a futex or a condition variable spends no CPU time.
// Times per iteration of contended runs are wall time / iterations of all threads together;
// their CPU column sums the threads, so CPU ~ N x Time (N up to the cores) says the threads really
// ran at once, and CPU ~ Time that they took turns: nothing makes one thread wait for another
// here, so with a core busy elsewhere a run quietly degrades to one thread at a time.
// Ping-pong of blocking queues times the wake-up path (futex, scheduler, and on a VM the
// hypervisor waking an idle vCPU), which varies several-fold from run to run: use repetitions
// and medians, on a quiet machine.
//
// Smoke run: `qb_bench --benchmark_min_time=0.001` (Google Benchmark 1.7 takes seconds).
#include <benchmark/benchmark.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/item.hpp"  // qb::Item: the item every qbench run pushes
#include "harness/build_info.hpp"
#include "queues/all_queues.hpp"
#include "queues/detail/spin.hpp"
#include "results/columns.hpp"  // the context keys

namespace {

using Item = qb::Item;
using qb::QueueStatus;

// The harness's default capacity: far above the one (ping-pong) or N (contended) items held, so
// no push waits for room and no bound is exercised.
constexpr std::size_t kCapacity = 1024;

// Most threads sharing one queue in the contended benchmark (2 cores: 4 oversubscribes, on
// purpose, as the stress tests do).
constexpr int kMaxContendedThreads = 4;

qb::QueueOptions options(std::size_t producers, std::size_t consumers) {
  return qb::QueueOptions{.capacity = kCapacity, .producers = producers, .consumers = consumers};
}

// A contended retry that finds nothing for this long means the queue lost an item: the run
// fails instead of spinning for ever.
constexpr std::chrono::seconds kGiveUp{10};

// Benchmarks that failed (a queue misbehaved), not those skipped for a shape they cannot serve.
// Google Benchmark exits 0 after SkipWithError; main() turns this into the exit code, so that
// the CTest smoke run fails on a broken queue.
std::atomic<int> g_failures{0};

void fail(benchmark::State& state, const char* why) {
  g_failures.fetch_add(1, std::memory_order_relaxed);
  state.SkipWithError(why);
}

// Retries a try-operation with a pause; every 64 pauses gives the core away, so that a thread
// preempted in the middle of an operation (4 threads on 2 cores) gets to finish it instead of
// being spun out. False after kGiveUp without success. The clock is read off the fast path.
template <class Op>
[[gnu::noinline]] bool retry_slow(Op& op) {
  const auto give_up = std::chrono::steady_clock::now() + kGiveUp;
  for (unsigned i = 1;; ++i) {
    if ((i & 63) != 0) {
      qb::detail::cpu_relax();
    } else {
      sched_yield();
      if (std::chrono::steady_clock::now() > give_up) return false;
    }
    if (op()) return true;
  }
}

template <class Op>
bool retry(Op&& op) {
  return op() || retry_slow(op);
}

// ---- push_pop: one thread, uncontended ----------------------------------------------------
template <class Q>
void bm_push_pop(benchmark::State& state) {
  Q q(options(1, 1));
  auto producer = qb::producer_handle(q, 0);
  auto consumer = qb::consumer_handle(q, 0);
  Item in{.id = 0, .intended_ns = 0, .pushed_ns = 0};
  Item out{};
  for (auto _ : state) {
    if (!producer.try_push(in) || !consumer.try_pop(out) || out.id != in.id) {
      fail(state, "try_push/try_pop failed on an empty queue, or popped another item");
      break;
    }
    benchmark::DoNotOptimize(out);
    ++in.id;
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- pingpong: two threads, two queues, one item in flight ----------------------------------
template <class Q>
void bm_pingpong(benchmark::State& state) {
  if (!Q::traits.serves(1, 1)) {
    state.SkipWithError("the queue cannot serve 1 producer x 1 consumer");
    return;
  }
  Q there(options(1, 1));
  Q back(options(1, 1));

  // Closing both queues releases the partner wherever it waits (close wakes every waiter; a
  // pop on an empty closed queue returns closed), so the join cannot hang. Runs on every exit.
  std::thread partner;
  struct Stop {
    Q& there;
    Q& back;
    std::thread& partner;
    ~Stop() {
      there.close();
      back.close();
      if (partner.joinable()) partner.join();
    }
  } stop{there, back, partner};

  partner = std::thread([&there, &back] {
    auto in = qb::consumer_handle(there, 0);
    auto out = qb::producer_handle(back, 0);
    Item v{};
    while (in.pop(v, qb::forever) == QueueStatus::ok) {
      if (out.push(v, qb::forever) != QueueStatus::ok) break;
    }
  });

  auto to = qb::producer_handle(there, 0);
  auto from = qb::consumer_handle(back, 0);
  Item sent{.id = 0, .intended_ns = 0, .pushed_ns = 0};
  Item got{};
  // One round trip untimed: the partner is running and waiting in pop before timing starts.
  if (to.push(sent, qb::forever) != QueueStatus::ok ||
      from.pop(got, qb::forever) != QueueStatus::ok) {
    fail(state, "warm-up round trip failed");
    return;
  }
  for (auto _ : state) {
    ++sent.id;
    if (to.push(sent, qb::forever) != QueueStatus::ok ||
        from.pop(got, qb::forever) != QueueStatus::ok || got.id != sent.id) {
      fail(state, "a blocking push/pop failed, or the wrong item came back");
      break;
    }
    benchmark::DoNotOptimize(got);
  }
  state.counters["round_trips_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// ---- contended: N benchmark threads share one queue -------------------------------------------
// The queue of the current run. Google Benchmark starts every thread of a run together and
// joins them all before the next run, and each thread's timing loop opens and closes with a
// barrier over all of them (State::StartKeepRunning / FinishKeepRunning). So: thread 0 creates
// the queue before its loop and publishes it under the mutex; the others wait for it and take a
// reference before theirs (so before thread 0 can pass the opening barrier); thread 0 clears
// the slot after its loop, when every thread holds its own reference. Each thread destroys its
// handles (moodycamel tokens reach into the queue) before dropping its reference; the last
// reference destroys the queue, outside the timed region.
template <class Q>
struct SharedQueue {
  std::mutex mutex;
  std::condition_variable published;
  std::shared_ptr<Q> queue;  // guarded by mutex
};

template <class Q>
SharedQueue<Q>& shared_queue() {
  static SharedQueue<Q> s;
  return s;
}

template <class Q>
void bm_contended(benchmark::State& state) {
  const auto threads = static_cast<std::size_t>(state.threads());
  const auto self = static_cast<std::size_t>(state.thread_index());
  SharedQueue<Q>& shared = shared_queue<Q>();
  std::shared_ptr<Q> q;
  {
    std::unique_lock lock(shared.mutex);
    if (self == 0) {
      shared.queue = std::make_shared<Q>(options(threads, threads));
      shared.published.notify_all();
    } else {
      shared.published.wait(lock, [&] { return shared.queue != nullptr; });
    }
    q = shared.queue;
  }
  {
    auto producer = qb::producer_handle(*q, self);
    auto consumer = qb::consumer_handle(*q, self);
    Item in{.id = qb::make_item_id(self, 0, 0), .intended_ns = 0, .pushed_ns = 0};
    Item out{};
    // Every thread that is about to pop has pushed one item more than it popped, so an item is
    // always there for it: the retries end without any blocking wait.
    for (auto _ : state) {
      if (!retry([&] { return producer.try_push(in); }) ||
          !retry([&] { return consumer.try_pop(out); })) {
        // A thread that leaves its loop early is removed from Google Benchmark's start/stop
        // barrier when it returns, so the other threads do not wait for it.
        fail(state, "try_push/try_pop found no room/item for 10 s: the queue lost an item");
        break;
      }
      benchmark::DoNotOptimize(out);
      ++in.id;
    }
  }
  if (self == 0) {
    std::lock_guard lock(shared.mutex);
    shared.queue.reset();
  }
  // Counters are summed over the threads: items/s is the queue's total over wall time.
  state.SetItemsProcessed(state.iterations());
}

// ---- Registration from the type list ------------------------------------------------------
template <class Q>
std::string bench_name(const char* shape) {
  return std::string(shape) + "/" + std::string(Q::name);
}

template <class Q>
void register_push_pop() {
  benchmark::RegisterBenchmark(bench_name<Q>("push_pop").c_str(), bm_push_pop<Q>);
}

template <class Q>
void register_pingpong() {
  benchmark::RegisterBenchmark(bench_name<Q>("pingpong").c_str(), bm_pingpong<Q>)->UseRealTime();
}

template <class Q>
void register_contended() {
  auto* b = benchmark::RegisterBenchmark(bench_name<Q>("contended").c_str(), bm_contended<Q>)
                ->UseRealTime();
  // Each thread pushes and pops: N threads are N producers and N consumers. boost_spsc (1 x 1)
  // gets the single-thread run only.
  for (int n = 1; n <= kMaxContendedThreads; n *= 2) {
    const auto un = static_cast<std::size_t>(n);
    // Sharded mailboxes (Order::per_key): a thread pops only its own mailbox, so items it
    // routes to another thread's mailbox never come back to it: single-thread run only.
    if (Q::traits.order == qb::Order::per_key && n > 1) continue;
    if (Q::traits.serves(un, un)) b->Threads(n);
  }
}

template <class... Qs>
void register_all(qb::TypeList<Qs...>) {
  (register_push_pop<Qs>(), ...);
  (register_pingpong<Qs>(), ...);
  (register_contended<Qs>(), ...);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // The context keys are the results file's column names.
  benchmark::AddCustomContext(std::string(qb::col::qbench_version.name), qb::build_info::version);
  benchmark::AddCustomContext(std::string(qb::col::git_sha.name), qb::build_info::git_sha);
  benchmark::AddCustomContext("qbench_build_type", qb::build_info::build_type);
  benchmark::AddCustomContext(std::string(qb::col::compiler.name), qb::build_info::compiler);
  benchmark::AddCustomContext(std::string(qb::col::item_bytes.name), std::to_string(sizeof(Item)));
  benchmark::AddCustomContext("queue_capacity", std::to_string(kCapacity));
#if defined(QB_SANITIZER_BUILD)
  benchmark::AddCustomContext(std::string(qb::col::sanitizer.name), QB_SANITIZER_BUILD);
  std::fprintf(stderr, "qb_bench: sanitizer build (%s): timings are not results\n",
               QB_SANITIZER_BUILD);
#endif

  // glibc runs a process that has never created a thread in single-threaded mode: its mutexes
  // then lock without the `lock` prefix (measured here: 3 ns instead of 14 ns a lock/unlock).
  // Queues live in threaded programs, and the first ping-pong or contended run would switch the
  // mode for every later benchmark, so that results would depend on --benchmark_filter. One
  // thread started and joined here puts every benchmark in the threaded mode.
  std::thread([] {}).join();

  register_all(qb::AllQueues<Item>{});
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (const int n = g_failures.load()) {
    std::fprintf(stderr, "qb_bench: %d benchmark run(s) failed (see the error lines above)\n", n);
    return 1;
  }
  return 0;
}
