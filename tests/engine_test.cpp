// The run engine on real and deliberately broken queues: verification catches lost and
// duplicated items, the watchdog ends a queue that never delivers (and mutex_cv_one's
// deadlock), the memory cap stops an unbounded queue under flood, and honest runs pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "harness/engine.hpp"
#include "harness/pingpong.hpp"
#include "harness/registry.hpp"
#include "queues/all_queues.hpp"

namespace qb {
namespace {

using namespace std::chrono_literals;

#if defined(QB_SANITIZER_BUILD)
constexpr std::uint64_t kItems = 20'000;
// Sanitizers multiply the memory behind every item (shadow memory): the cap comes sooner.
constexpr std::uint64_t kDepthAtCap = 10'000;
#else
constexpr std::uint64_t kItems = 200'000;
constexpr std::uint64_t kDepthAtCap = 1'000'000;
#endif

RunConfig flood(std::string queue, std::size_t p, std::size_t c, std::uint64_t items = kItems) {
  RunConfig cfg;
  cfg.queue = std::move(queue);
  cfg.workload = WorkloadKind::flood;
  cfg.producers = p;
  cfg.consumers = c;
  cfg.capacity = 1024;
  cfg.items = items;
  cfg.stall_timeout = 2s;
  cfg.max_rss_bytes = 0;
  return cfg;
}

// ---- Broken queues ---------------------------------------------------------------------------

// Accepts every push but silently throws away every 1000th item (push or try_push: tree
// children go in by try_push).
template <class T>
class LossyQueue : public MutexCv<T> {
 public:
  using MutexCv<T>::MutexCv;
  static constexpr std::string_view name = "test_lossy";
  QueueStatus push(const T& v, std::chrono::nanoseconds t) {
    if (drop()) return QueueStatus::ok;  // "accepted", never stored
    return MutexCv<T>::push(v, t);
  }
  [[nodiscard]] bool try_push(const T& v) {
    if (drop()) return true;
    return MutexCv<T>::try_push(v);
  }
  // Items reported accepted and thrown away, over every instance (reset it before a run).
  static inline std::atomic<std::uint64_t> dropped{0};

 private:
  bool drop() {
    if (++pushes_ % 1000 != 0) return false;
    ++dropped;
    return true;
  }
  std::atomic<std::uint64_t> pushes_{0};
};

// Hands every 1000th item out twice.
template <class T>
class DuplicatingQueue : public MutexCv<T> {
 public:
  using MutexCv<T>::MutexCv;
  static constexpr std::string_view name = "test_duplicating";
  // The engine may try before it waits (a flood consumer): the same fault either way.
  [[nodiscard]] bool try_pop(T& out) {
    return pop(out, std::chrono::nanoseconds{0}) == QueueStatus::ok;
  }
  QueueStatus pop(T& out, std::chrono::nanoseconds t) {
    {
      std::lock_guard lk(m_);
      if (has_again_) {
        has_again_ = false;
        out = again_;
        return QueueStatus::ok;
      }
    }
    const QueueStatus s = MutexCv<T>::pop(out, t);
    if (s == QueueStatus::ok && ++pops_ % 1000 == 0) {
      std::lock_guard lk(m_);
      again_ = out;
      has_again_ = true;
    }
    return s;
  }

 private:
  std::mutex m_;
  T again_{};
  bool has_again_ = false;
  std::uint64_t pops_ = 0;  // guarded by the base's consumer side: one consumer in these tests
};

// Holds every 100th item back and hands it out three items later: out of order when items of its
// own producer came in between. Counts those deliveries by the rule's definition (an item whose
// sequence is below the one after its producer's last delivered item), for one consumer.
template <class T>
class ReorderingQueue : public MutexCv<T> {
 public:
  using MutexCv<T>::MutexCv;
  static constexpr std::string_view name = "test_reordering";
  [[nodiscard]] bool try_pop(T& out) {
    return pop(out, std::chrono::nanoseconds{0}) == QueueStatus::ok;
  }
  QueueStatus pop(T& out, std::chrono::nanoseconds t) {
    if (held_ && later_ == 0) return deliver(out, held_item_);
    T next{};
    const QueueStatus s = MutexCv<T>::pop(next, t);
    if (s == QueueStatus::closed && held_) return deliver(out, held_item_);
    if (s != QueueStatus::ok) return s;
    if (!held_ && ++pops_ % 100 == 0) {
      held_item_ = next;
      held_ = true;
      later_ = 3;
      return pop(out, t);
    }
    if (held_) --later_;
    return deliver(out, next);
  }
  // Deliveries out of order, over every instance (reset it before a run).
  static inline std::atomic<std::uint64_t> reordered{0};

 private:
  QueueStatus deliver(T& out, const T& item) {
    if (&item == &held_item_) held_ = false;
    std::uint64_t& next_seq = next_seq_[item_producer(item.id)];
    if (item_seq(item.id) < next_seq) ++reordered;
    next_seq = item_seq(item.id) + 1;
    out = item;
    return QueueStatus::ok;
  }
  T held_item_{};
  bool held_ = false;
  int later_ = 0;
  std::uint64_t pops_ = 0;
  std::map<std::uint64_t, std::uint64_t> next_seq_;  // by producer
};

// Accepts items and never delivers them: pops wait until close, then report closed.
template <class T>
class BlackHoleQueue {
 public:
  using value_type = T;
  static constexpr std::string_view name = "test_black_hole";
  static constexpr QueueTraits traits{.summary = "accepts everything, delivers nothing",
                                      .order = Order::fifo,
                                      .bound = Bound::unbounded,
                                      .progress = Progress::blocking,
                                      .allows_unbounded = true};
  explicit BlackHoleQueue(const QueueOptions&) {}
  [[nodiscard]] bool try_push(const T&) { return !closed_.load(); }
  [[nodiscard]] bool try_pop(T&) { return false; }
  QueueStatus push(const T&, std::chrono::nanoseconds) {
    return closed_.load() ? QueueStatus::closed : QueueStatus::ok;
  }
  QueueStatus pop(T&, std::chrono::nanoseconds) {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return closed_.load(); });
    return QueueStatus::closed;
  }
  void close() noexcept {
    {
      std::lock_guard lk(m_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool closed() const { return closed_.load(); }
  [[nodiscard]] std::size_t capacity() const { return unbounded; }
  [[nodiscard]] std::size_t approx_size() const { return size_unknown; }

 private:
  std::atomic<bool> closed_{false};
  std::mutex m_;
  std::condition_variable cv_;
};
static_assert(ConcurrentQueue<BlackHoleQueue<Item>>);

// Correct, but shuns one consumer: the first thread to pop never gets an item (its pops wait
// for close and then report it) while the other consumers get everything.
template <class T>
class ShunningQueue : public MutexCv<T> {
 public:
  using MutexCv<T>::MutexCv;
  static constexpr std::string_view name = "test_shunning";
  [[nodiscard]] bool try_pop(T& out) { return !shunned() && MutexCv<T>::try_pop(out); }
  QueueStatus pop(T& out, std::chrono::nanoseconds t) {
    if (!shunned()) return MutexCv<T>::pop(out, t);
    const auto t0 = std::chrono::steady_clock::now();
    while (!this->closed()) {
      if (t != forever && std::chrono::steady_clock::now() - t0 >= t) return QueueStatus::timeout;
      std::this_thread::sleep_for(100us);
    }
    return QueueStatus::closed;
  }

 private:
  bool shunned() {
    std::thread::id none{};
    const std::thread::id me = std::this_thread::get_id();
    first_.compare_exchange_strong(none, me);
    return first_.load() == me;
  }
  std::atomic<std::thread::id> first_{};
};

// ---- Verification ----------------------------------------------------------------------------

TEST(EngineVerification, HonestQueuesPass) {
  for (const auto* name : {"mutex_cv", "split_cv", "moodycamel+park", "ws_pool"}) {
    const auto* e = default_registry().find(name);
    ASSERT_NE(e, nullptr) << name;
    const RunResult r = e->run(flood(name, 2, 2));
    EXPECT_EQ(r.verdict, Verdict::ok) << name << ": " << r.detail;
    EXPECT_EQ(r.accepted, kItems) << name;
    EXPECT_EQ(r.consumed, kItems) << name;
    EXPECT_EQ(r.lost + r.duplicated + r.out_of_order, 0u) << name;
    EXPECT_TRUE(r.checksum_ok) << name;
    // Flood times a sample (engine.hpp, ClockSampler): one item in 1 to 1024 per producer.
    EXPECT_LE(r.latency.count(), kItems) << name;
    EXPECT_GE(r.latency.count(), kItems / 1024) << name;
    EXPECT_GT(r.throughput(), 0) << name;
  }
}

// The producers' checksum is summed after the run, split over the cores when it is long: the
// split must neither skip nor repeat a number, whatever the remainder.
TEST(EngineVerification, SumInParallelCoversEveryNumberOnce) {
  const auto mixed = [](std::uint64_t from, std::uint64_t to) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = from; i < to; ++i)
      sum += mix_id(i);
    return sum;
  };
  for (const std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 22,
                                (std::uint64_t{3} << 22) + 7, (std::uint64_t{5} << 22) - 1}) {
    std::atomic<int> calls{0};
    const std::uint64_t split =
        engine_detail::sum_in_parallel(n, [&](std::uint64_t f, std::uint64_t t) {
          ++calls;
          return mixed(f, t);
        });
    EXPECT_EQ(split, mixed(0, n)) << n;
    if (n >= (std::uint64_t{2} << 22) && online_cores() > 1) {
      EXPECT_GT(calls.load(), 1) << n;
    }
  }
}

// The producers' ranges are weighed against the consumers' without mixing what both cover: the
// difference must be what mixing every range of both sides gives, whatever the ranges (equal,
// nested, overlapping, repeated, empty, or on one side only).
TEST(EngineVerification, MixedDifferenceIsWhatMixingEveryRangeGives) {
  using engine_detail::IdRange;
  const auto mixed_all = [](const std::vector<IdRange>& rs) {
    std::uint64_t sum = 0;
    for (const IdRange& r : rs)
      sum += r.begin < r.end ? mix_ids(r.begin, r.end) : 0;
    return sum;
  };
  std::mt19937_64 rng(20261206);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<IdRange> plus, minus;
    const auto random_range = [&rng] {
      const std::uint64_t begin = rng() % 1000;
      return IdRange{begin, begin + rng() % 300};
    };
    for (std::uint64_t k = rng() % 12; k > 0; --k)
      plus.push_back(random_range());
    for (std::uint64_t k = rng() % 12; k > 0; --k)
      minus.push_back(random_range());
    if (rng() % 2) minus.insert(minus.end(), plus.begin(), plus.end());  // covers the same ids
    std::shuffle(minus.begin(), minus.end(), rng);
    EXPECT_EQ(engine_detail::mixed_difference(plus, minus), mixed_all(plus) - mixed_all(minus))
        << "trial " << trial;
  }
  // Long ranges: the same ids split differently cancel out; what one side lacks is what is left.
  const std::uint64_t n = std::uint64_t{5} << 22;
  const std::vector<IdRange> whole{{7, 7 + n}};
  const std::vector<IdRange> split{{7 + n / 3, 7 + n}, {7, 7 + n / 3}};
  EXPECT_EQ(engine_detail::mixed_difference(whole, split), 0u);
  const std::vector<IdRange> short_by_five{{7, 7 + n / 3}, {7 + n / 3 + 5, 7 + n}};
  EXPECT_EQ(engine_detail::mixed_difference(whole, short_by_five),
            mix_ids(7 + n / 3, 7 + n / 3 + 5));
  engine_detail::IdSum produced{.mixed = 11, .ranges = whole};
  engine_detail::IdSum consumed{.mixed = 11, .ranges = split};
  EXPECT_TRUE(engine_detail::same_checksum(produced, consumed));
  consumed.ranges.push_back({9, 10});  // a duplicate
  EXPECT_FALSE(engine_detail::same_checksum(produced, consumed));
  consumed.ranges.pop_back();
  consumed.mixed += 1;
  EXPECT_FALSE(engine_detail::same_checksum(produced, consumed));
}

TEST(EngineVerification, CatchesLostItems) {
  LossyQueue<Item>::dropped = 0;
  const RunResult r = run_engine<LossyQueue<Item>, FloodSchedule>(flood("test_lossy", 2, 1));
  EXPECT_EQ(r.verdict, Verdict::failed);
  // Every 1000th call drops: at least one item in 1000 (failed tries count as calls).
  EXPECT_GE(r.lost, kItems / 1000) << r.detail;
  EXPECT_EQ(r.lost, LossyQueue<Item>::dropped.load()) << r.detail;
  EXPECT_FALSE(r.checksum_ok);
  EXPECT_NE(r.detail.find("never consumed"), std::string::npos) << r.detail;
}

TEST(EngineVerification, CatchesDuplicatedItems) {
  const RunResult r =
      run_engine<DuplicatingQueue<Item>, FloodSchedule>(flood("test_duplicating", 1, 1));
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.duplicated, kItems / 1000) << r.detail;
  EXPECT_FALSE(r.checksum_ok);
  // A duplicate arrives after later items of its producer: out of order too.
  EXPECT_GT(r.out_of_order, 0u);
}

TEST(EngineVerification, CountsItemsOutOfOrderPerProducer) {
  // Three producers interleave in the queue: the check follows each through the others. Both
  // consumer loops: the flood's lean one, and the general one (service time).
  for (const bool lean : {true, false}) {
    ReorderingQueue<Item>::reordered = 0;
    RunConfig cfg = flood("test_reordering", 3, 1);
    if (!lean) cfg.service = ServiceDist::fixed;  // 0 ns of work: the loop, not the time
    const RunResult r = run_engine<ReorderingQueue<Item>, FloodSchedule>(cfg);
    EXPECT_EQ(r.verdict, Verdict::failed) << lean;
    EXPECT_GT(r.out_of_order, 0u) << lean << ": " << r.detail;
    EXPECT_EQ(r.out_of_order, ReorderingQueue<Item>::reordered.load()) << lean;
    EXPECT_EQ(r.lost + r.duplicated, 0u) << lean << ": " << r.detail;
    EXPECT_TRUE(r.checksum_ok) << lean;
  }
}

TEST(EngineVerification, DropAndTimeoutPoliciesCountRefusals) {
  // A consumer far slower than the producer: refusals must be counted, never lost silently.
  for (Backpressure b : {Backpressure::drop, Backpressure::timeout}) {
    RunConfig cfg = flood("split_cv", 1, 1, 0);
    cfg.items = 0;
    cfg.duration = 200ms;
    cfg.capacity = 16;
    cfg.backpressure = b;
    // Room appears once per 500 us of service; a push waits at most 20 us for it.
    cfg.push_timeout = 20us;
    cfg.service = ServiceDist::fixed;
    cfg.service_time = 500us;
    cfg.service_mode = ServiceMode::spin;
    const RunResult r = default_registry().find("split_cv")->run(cfg);
    EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
    EXPECT_GT(r.rejected + r.dropped, r.accepted) << "most offers must be refused";
    EXPECT_EQ(b == Backpressure::drop ? r.rejected : r.dropped, 0u);
    EXPECT_EQ(r.offered, r.accepted + r.rejected + r.dropped);
    EXPECT_TRUE(r.checksum_ok) << "the refused items are taken off what the producers offered";
    EXPECT_EQ(r.accepted, r.consumed);
  }
}

// A consumer that got nothing while the other consumed everything fails a run long enough that
// the scheduler cannot explain it; a short run (shorter than a thread may wait for a core on a
// busy machine) is not judged.
TEST(EngineVerification, CatchesAStarvedConsumerInALongRunOnly) {
  RunConfig cfg = flood("test_shunning", 2, 2, 0);
  cfg.duration = std::chrono::milliseconds(static_cast<int>(starved_after_s * 1000) + 100);
  const RunResult r = run_engine<ShunningQueue<Item>, FloodSchedule>(cfg);
  EXPECT_EQ(r.verdict, Verdict::failed) << r.detail;
  EXPECT_EQ(r.starved_consumers, 1u) << r.detail;
  EXPECT_GE(r.consumed, starved_if_none_of * 2);
  EXPECT_EQ(r.consumed, r.accepted) << "nothing lost: the other consumer took everything";
  EXPECT_NE(r.detail.find("1 consumers starved"), std::string::npos) << r.detail;

  const std::uint64_t few = starved_if_none_of * 4;  // enough items to judge, a few milliseconds
  const RunResult s =
      run_engine<ShunningQueue<Item>, FloodSchedule>(flood("test_shunning", 2, 2, few));
  ASSERT_LT(s.elapsed_s, starved_after_s) << "the short run must be short";
  EXPECT_EQ(s.verdict, Verdict::ok) << s.detail;
  EXPECT_EQ(s.starved_consumers, 0u);
  EXPECT_EQ(s.consumed, few);
}

// ---- Watchdog, memory cap ----------------------------------------------------------------------

TEST(EngineWatchdog, EndsAQueueThatNeverDelivers) {
  RunConfig cfg = flood("test_black_hole", 1, 1, 0);
  cfg.duration = 60s;  // the producer would go on for a minute: the watchdog must end it
  cfg.stall_timeout = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_engine<BlackHoleQueue<Item>, FloodSchedule>(cfg);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.verdict, Verdict::stalled) << r.detail;
  EXPECT_GT(r.accepted, 0u);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_NE(r.detail.find("nothing consumed"), std::string::npos) << r.detail;
  EXPECT_LT(took, 20s) << "the watchdog must end the run, not hang";
}

TEST(EngineVerification, AQueueThatLosesItemsAtCloseFails) {
  // The same black hole, run to completion: close() lets the consumers go, and every accepted
  // item is reported lost.
  RunConfig cfg = flood("test_black_hole", 1, 1, 1000);
  const RunResult r = run_engine<BlackHoleQueue<Item>, FloodSchedule>(cfg);
  EXPECT_EQ(r.verdict, Verdict::failed) << r.detail;
  EXPECT_EQ(r.lost, 1000u);
}

// A queue whose pop never returns, not even after close(): the engine must give up on the
// thread (detach it) and still report, instead of hanging in join().
template <class T>
class DeafQueue : public BlackHoleQueue<T> {
 public:
  using BlackHoleQueue<T>::BlackHoleQueue;
  static constexpr std::string_view name = "test_deaf";
  QueueStatus pop(T&, std::chrono::nanoseconds) {
    while (!release.load())
      std::this_thread::sleep_for(1ms);
    return QueueStatus::closed;
  }
  static inline std::atomic<bool> release{false};
};

TEST(EngineWatchdog, AbandonsThreadsThatIgnoreClose) {
  RunConfig cfg = flood("test_deaf", 1, 1, 0);
  cfg.duration = 60s;
  cfg.stall_timeout = 200ms;
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_engine<DeafQueue<Item>, FloodSchedule>(cfg);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.verdict, Verdict::stalled);
  EXPECT_NE(r.detail.find("abandoned"), std::string::npos) << r.detail;
  EXPECT_LT(took, 20s);
  DeafQueue<Item>::release = true;  // let the abandoned consumer finish
  std::this_thread::sleep_for(20ms);
}

// Ignores close() entirely: a push waits for room for ever once `capacity` items are in, a pop
// waits for an item that never comes. Its threads return only when the test releases them.
template <class T>
class IgnoresCloseQueue : public BlackHoleQueue<T> {
 public:
  static constexpr std::string_view name = "test_ignores_close";
  explicit IgnoresCloseQueue(const QueueOptions& o) : BlackHoleQueue<T>(o), cap_(o.capacity) {}
  [[nodiscard]] bool try_push(const T&) { return take_room(); }
  QueueStatus push(const T&, std::chrono::nanoseconds) {
    while (!take_room())
      if (!wait()) return QueueStatus::closed;
    return QueueStatus::ok;
  }
  QueueStatus pop(T&, std::chrono::nanoseconds) {
    while (wait()) {
    }
    return QueueStatus::closed;
  }
  static inline std::atomic<bool> release{false};

 private:
  bool take_room() {
    std::lock_guard lk(m_);
    if (held_ >= cap_) return false;
    ++held_;
    return true;
  }
  static bool wait() {  // false once released
    std::this_thread::sleep_for(1ms);
    return !release.load();
  }
  std::mutex m_;
  std::size_t held_ = 0;
  std::size_t cap_;
};

// With every thread stuck inside the queue, a stalled run ends within two stall timeouts of its
// last progress, however many threads are stuck (one deadline for all of them), and reports the
// counts the controller saw: the 1,024 items the queue holds are stranded, not "nothing lost".
void expect_stuck_run_ends_in_time(std::size_t producers, std::size_t consumers,
                                   std::uint64_t items, std::size_t stuck) {
  IgnoresCloseQueue<Item>::release = false;
  RunConfig cfg = flood("test_ignores_close", producers, consumers, items);
  cfg.duration = 60s;
  cfg.stall_timeout = 1s;
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = run_engine<IgnoresCloseQueue<Item>, FloodSchedule>(cfg);
  const auto took = std::chrono::steady_clock::now() - t0;
  IgnoresCloseQueue<Item>::release = true;  // let the abandoned threads go
  EXPECT_EQ(r.verdict, Verdict::stalled) << r.detail;
  // Nothing was ever consumed: the last progress is the start (plus 2 ms and a thread start-up).
  EXPECT_LT(took, 2 * cfg.stall_timeout + 250ms) << stuck << " stuck threads";
  EXPECT_GT(took, cfg.stall_timeout);
  EXPECT_NE(r.detail.find(std::to_string(stuck) + " thread"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("abandoned"), std::string::npos) << r.detail;
  EXPECT_EQ(r.accepted, cfg.capacity);
  EXPECT_GE(r.offered, r.accepted);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(r.lost, cfg.capacity) << "the items in the queue were stranded";
  EXPECT_GT(r.elapsed_s, 1.0);
  std::this_thread::sleep_for(50ms);
}

TEST(EngineWatchdog, OneConsumerDeafToCloseEndsWithinTwoStallTimeoutsWithItsCounts) {
  // The producer offers exactly the capacity and returns; the consumer never does.
  expect_stuck_run_ends_in_time(1, 1, 1024, 1);
}

TEST(EngineWatchdog, EightStuckThreadsShareOneDeadline) {
  // Four producers block in push once the queue is full, four consumers in pop.
  expect_stuck_run_ends_in_time(4, 4, 0, 8);
}

TEST(EngineWatchdog, ShowsTheMutexCvOneDeadlock) {
  // Capacity 1, one producer, two consumers, untimed waits: mutex_cv_one.hpp's interleaving.
  RunConfig cfg = flood("mutex_cv_one", 1, 2, 0);
  cfg.capacity = 1;
  cfg.duration = 5s;
  cfg.stall_timeout = 300ms;
  bool stalled = false;
  for (int attempt = 0; attempt < 10 && !stalled; ++attempt) {
    const RunResult r = default_registry().find("mutex_cv_one")->run(cfg);
    stalled = r.verdict == Verdict::stalled;
    if (!stalled) {
      EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
    }
  }
  EXPECT_TRUE(stalled) << "mutex_cv_one ran 10 times without deadlocking";
}

TEST(EngineMemoryCap, StopsAnUnboundedQueueUnderFlood) {
  RunConfig cfg = flood("mutex_cv", 1, 1, 0);
  cfg.capacity = unbounded;
  cfg.duration = 60s;
  cfg.service = ServiceDist::fixed;  // a consumer far slower than the producer
  cfg.service_time = 1ms;
  cfg.service_mode = ServiceMode::sleep;
  cfg.max_rss_bytes = current_rss_bytes() + (96u << 20);
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = default_registry().find("mutex_cv")->run(cfg);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.verdict, Verdict::memory_cap) << r.detail;
  EXPECT_GT(r.peak_depth, kDepthAtCap);
  EXPECT_LT(took, 30s);
  EXPECT_NE(r.detail.find("--max-rss"), std::string::npos) << r.detail;
}

// ---- Measurement -----------------------------------------------------------------------------

TEST(EngineMeasurement, SteadyRateIsHonouredAndLatencyIsFromIntendedTime) {
  RunConfig cfg = flood("split_cv", 2, 1, 0);
  cfg.workload = WorkloadKind::steady;
  cfg.rate = 20'000;
  cfg.duration = 500ms;
  const RunResult r = default_registry().find("split_cv")->run(cfg);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  // 10k items in 0.5 s, give or take the items straddling the end.
  EXPECT_NEAR(static_cast<double>(r.accepted), 10'000.0, 50.0);
  // Latency = lag + sojourn: it can only be at least the sojourn.
  EXPECT_GE(r.latency.percentile(50), r.sojourn.percentile(50) - 1);
  EXPECT_EQ(r.lag.count(), r.accepted);
}

TEST(EngineMeasurement, CoordinatedOmissionIsCharged) {
  // A consumer that needs 200 us per item against a schedule of one item per 100 us: the queue
  // fills and producers fall behind. Measured from the intended time, latency must grow with the
  // backlog (to ~ the run length); from the push call it would not.
  RunConfig cfg = flood("split_cv", 1, 1, 0);
  cfg.workload = WorkloadKind::steady;
  cfg.rate = 10'000;
  cfg.capacity = 4;
  cfg.duration = 400ms;
  cfg.service = ServiceDist::fixed;
  cfg.service_time = 200us;
  cfg.service_mode = ServiceMode::spin;
  const RunResult r = default_registry().find("split_cv")->run(cfg);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_GT(r.latency.percentile(99), 100'000'000) << "latency should include the schedule lag";
  EXPECT_LT(r.sojourn.percentile(99), r.latency.percentile(99) / 10);
  EXPECT_GT(r.lag.percentile(99), 100'000'000);
}

// The median depth tells where a run spent its time: full behind a slow consumer, empty under a
// light load.
TEST(EngineMeasurement, MedianDepthTellsAFullQueueFromAnEmptyOne) {
  RunConfig full = flood("mutex_cv", 1, 1, 0);
  full.capacity = 64;
  full.duration = 300ms;
  full.service = ServiceDist::fixed;
  full.service_time = 50us;
  full.service_mode = ServiceMode::spin;
  const RunResult f = default_registry().find("mutex_cv")->run(full);
  ASSERT_EQ(f.verdict, Verdict::ok) << f.detail;
  ASSERT_GE(f.depth_samples, 5u);
  // 64 queued and the one being served (accepted - consumed).
  EXPECT_GE(f.median_depth, 60u);
  EXPECT_LE(f.median_depth, f.peak_depth);

  RunConfig light = flood("mutex_cv", 1, 1, 0);
  light.workload = WorkloadKind::steady;
  light.rate = 2'000;
  light.duration = 300ms;
  const RunResult e = default_registry().find("mutex_cv")->run(light);
  ASSERT_EQ(e.verdict, Verdict::ok) << e.detail;
  ASSERT_GE(e.depth_samples, 5u);
  EXPECT_LE(e.median_depth, 1u);
}

TEST(EngineMeasurement, SamplesAndCpuAreRecorded) {
  RunConfig cfg = flood("mutex_cv", 1, 1, 0);
  cfg.duration = 200ms;
  cfg.keep_samples = true;
  const RunResult r = default_registry().find("mutex_cv")->run(cfg);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_GE(r.samples.size(), 15u);
  EXPECT_GT(r.cpu().total_s(), 0.0);
  EXPECT_TRUE(r.wait_stats.has_value());
  EXPECT_GT(r.rss_before, 0u);
  for (std::size_t i = 1; i < r.samples.size(); ++i) {
    EXPECT_GE(r.samples[i].consumed, r.samples[i - 1].consumed);
    EXPECT_GT(r.samples[i].t_s, r.samples[i - 1].t_s);
  }
}

}  // namespace
}  // namespace qb

// ---- Shutdown modes ----------------------------------------------------------------------------

namespace qb {
namespace {

RunResult run_shutdown(const char* queue, Shutdown mode, std::chrono::nanoseconds poll = 1ms) {
  RunConfig cfg = flood(queue, 2, 2);
  cfg.shutdown = mode;
  cfg.poll_interval = poll;
  return default_registry().find(queue)->run(cfg);
}

TEST(EngineShutdown, EveryModeLosesNothingOnAFifoQueueAndRecordsItsLatency) {
  for (Shutdown mode : {Shutdown::close, Shutdown::poison, Shutdown::poll}) {
    for (const char* queue : {"mutex_cv", "split_cv", "boost_lockfree+park"}) {
      const RunResult r = run_shutdown(queue, mode);
      EXPECT_EQ(r.verdict, Verdict::ok) << queue << " " << to_string(mode) << ": " << r.detail;
      EXPECT_EQ(r.consumed, kItems) << queue << " " << to_string(mode);
      EXPECT_EQ(r.lost, 0u);
      EXPECT_GE(r.shutdown_s, 0.0) << queue << " " << to_string(mode);
      EXPECT_LT(r.shutdown_s, 5.0) << queue << " " << to_string(mode);
    }
  }
}

TEST(EngineShutdown, PollingLatencyFollowsThePollInterval) {
  // A consumer notices the stop flag only when a timed pop expires. Under flood the consumers
  // get their last items as the producers finish, and the controller raises the flag at its
  // next 10 ms tick: so shutdown takes at least one interval less that tick.
  const RunResult r = run_shutdown("split_cv", Shutdown::poll, 50ms);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_GE(r.shutdown_s, 0.050 - 0.015);
  EXPECT_LT(r.shutdown_s, 5.0);
}

TEST(EngineShutdown, APoisonPillReachesEveryMailboxOfAShardedQueue) {
  // Without keys every item goes to mailbox 0; pill i carries key i, so each of the three
  // consumers still gets one and stops.
  const auto* e = default_registry().find("sharded:split_cv");
  ASSERT_NE(e, nullptr);
  RunConfig cfg = flood("sharded:split_cv", 1, 3, kItems / 10);
  cfg.shutdown = Shutdown::poison;
  const RunResult r = e->run(cfg);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.consumed, r.accepted);
  EXPECT_GE(r.shutdown_s, 0.0);
}

TEST(EngineShutdown, PoisonPillsAreNotCountedAsItems) {
  const RunResult r = run_shutdown("mutex_cv", Shutdown::poison);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.consumed, r.accepted);
  EXPECT_TRUE(r.checksum_ok);
}

// ---- Tree workload: every node exactly once -------------------------------------------------

RunConfig tree(std::string queue, std::size_t fanout, std::size_t depth, std::uint64_t roots,
               std::size_t capacity = unbounded) {
  RunConfig cfg = flood(std::move(queue), 1, 2, roots);
  cfg.workload = WorkloadKind::tree;
  cfg.fanout = fanout;
  cfg.depth = depth;
  cfg.capacity = capacity;
  return cfg;
}

TEST(EngineTree, NodesPerRootIsTheCompleteTreeSize) {
  RunConfig c;
  c.fanout = 3;
  c.depth = 4;
  EXPECT_EQ(c.nodes_per_root(), 1u + 3 + 9 + 27 + 81);
  c.fanout = 1;
  EXPECT_EQ(c.nodes_per_root(), 5u);
  c.depth = 0;
  EXPECT_EQ(c.nodes_per_root(), 1u);
}

TEST(EngineTree, EveryNodeRunsExactlyOnceOnCentralAndStealingQueues) {
  const std::uint64_t roots = kItems / 5'000;  // 40 (8 under sanitizers) trees of 1093 nodes
  for (const char* name : {"mutex_cv", "split_cv", "moodycamel+park", "ws_pool"}) {
    const auto* e = default_registry().find(name);
    ASSERT_NE(e, nullptr) << name;
    const RunResult r = e->run(tree(name, 3, 6, roots));
    EXPECT_EQ(r.verdict, Verdict::ok) << name << ": " << r.detail;
    EXPECT_EQ(r.accepted, roots) << name;
    EXPECT_EQ(r.consumed, roots * 1093) << name;
    EXPECT_TRUE(r.checksum_ok) << name;
    EXPECT_EQ(r.inline_nodes, 0u) << name << ": an unbounded queue refuses no child";
    EXPECT_EQ(r.out_of_order, 0u) << name << ": trees promise no order, none is checked";
  }
}

TEST(EngineTree, AFullQueueMakesTheConsumerRunChildrenInline) {
  const RunResult r = run_tree<MutexCv<Item>>(tree("mutex_cv", 4, 5, kItems / 20'000, 8));
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.consumed, r.accepted * 1365);
  EXPECT_GT(r.inline_nodes, 0u);
  EXPECT_LT(r.inline_nodes, r.consumed);
}

// Every 1000th pop hands out the previous item again instead of the current one: as many items
// come out as went in, so only the checksum over ids can tell.
template <class T>
class SubstitutingQueue : public MutexCv<T> {
 public:
  using MutexCv<T>::MutexCv;
  static constexpr std::string_view name = "test_substituting";
  // The engine may try before it waits (a flood consumer): the same fault either way.
  [[nodiscard]] bool try_pop(T& out) {
    return pop(out, std::chrono::nanoseconds{0}) == QueueStatus::ok;
  }
  QueueStatus pop(T& out, std::chrono::nanoseconds t) {
    const QueueStatus s = MutexCv<T>::pop(out, t);
    if (s != QueueStatus::ok) return s;
    std::lock_guard lk(m_);
    if (++pops_ % 1000 == 0) {
      out = last_;
    } else {
      last_ = out;
    }
    return s;
  }

 private:
  std::mutex m_;
  T last_{};
  std::uint64_t pops_ = 0;
};

TEST(EngineTree, ALostNodeNeverLetsTheTreeFinishAndTheWatchdogSaysSo) {
  // The run waits for every node of every root; a lost child means it never comes: the
  // watchdog ends the run and counts the nodes that never ran.
  RunConfig cfg = tree("test_lossy", 3, 6, 10);
  cfg.stall_timeout = 300ms;
  const RunResult r = run_tree<LossyQueue<Item>>(cfg);
  EXPECT_EQ(r.verdict, Verdict::stalled);
  EXPECT_NE(r.detail.find("nodes to run"), std::string::npos) << r.detail;
  EXPECT_LT(r.consumed, r.accepted * 1093);
}

TEST(EngineTree, ASubstitutedNodeFailsTheChecksumThoughTheCountMatches) {
  const RunResult r = run_tree<SubstitutingQueue<Item>>(tree("test_substituting", 3, 6, 10));
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_EQ(r.consumed, r.accepted * 1093);  // the count alone would pass
  EXPECT_FALSE(r.checksum_ok);
}

TEST(EngineTree, RefusedRootsAreNotExpected) {
  // Drop policy with a tiny queue: some roots are refused; their nodes must not be expected.
  RunConfig cfg = tree("mutex_cv", 2, 8, kItems / 1'000, 4);
  cfg.backpressure = Backpressure::drop;
  const RunResult r = run_tree<MutexCv<Item>>(cfg);
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_GT(r.dropped, 0u);
  EXPECT_EQ(r.consumed, r.accepted * 511);
  EXPECT_TRUE(r.checksum_ok);
}

// ---- Keyed items -----------------------------------------------------------------------------

// A queue that claims to route keys to their owner but hands items out in swapped pairs
// (1 0 3 2 ...; one consumer): it breaks per-key order.
template <class T>
class SwappingMailbox : public MutexCv<T> {
 public:
  using MutexCv<T>::MutexCv;
  static constexpr std::string_view name = "test_swapping_mailbox";
  static constexpr QueueTraits traits{.summary = "swaps adjacent items",
                                      .order = Order::per_key,
                                      .bound = Bound::exact,
                                      .progress = Progress::blocking,
                                      .allows_unbounded = true};
  // The engine may try before it waits (a flood consumer): the same fault either way.
  [[nodiscard]] bool try_pop(T& out) {
    return pop(out, std::chrono::nanoseconds{0}) == QueueStatus::ok;
  }
  QueueStatus pop(T& out, std::chrono::nanoseconds t) {
    if (held_) {
      held_ = false;
      out = hold_;
      return QueueStatus::ok;
    }
    const QueueStatus s = MutexCv<T>::pop(out, t);
    if (s != QueueStatus::ok) return s;
    T next;
    if (MutexCv<T>::pop(next, 0ns) == QueueStatus::ok) {
      hold_ = out;
      held_ = true;
      out = next;
    }
    return s;
  }

 private:
  T hold_{};
  bool held_ = false;  // one consumer only
};

RunConfig keyed(std::string queue, std::size_t p, std::size_t c, std::size_t keys) {
  RunConfig cfg = flood(std::move(queue), p, c, kItems / 10);
  cfg.keys = keys;
  return cfg;
}

TEST(EngineKeys, AMailboxThatBreaksPerKeyOrderFails) {
  const RunResult r =
      run_engine<SwappingMailbox<Item>, FloodSchedule>(keyed("test_swapping_mailbox", 1, 1, 1));
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_GT(r.key_reorders, 0u);
  EXPECT_NE(r.detail.find("per-key order"), std::string::npos) << r.detail;
}

TEST(EngineKeys, ASharedQueueUnderOneConsumerKeepsKeyOrder) {
  const RunResult r = run_engine<MutexCv<Item>, FloodSchedule>(keyed("mutex_cv", 2, 1, 16));
  ASSERT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.key_reorders, 0u);
  EXPECT_EQ(r.consumed, r.accepted);
}

TEST(EngineKeys, KeysAreDrawnFromTheConfiguredRange) {
  // Key bits of the id: the engine and shard_key agree, and stay below --keys.
  for (std::uint64_t key : {0u, 1u, 1023u, 65535u}) {
    const Item it{make_item_id(3, key, 12345), 0, 0};
    EXPECT_EQ(shard_key(it), key);
    EXPECT_EQ(item_producer(it.id), 3u);
    EXPECT_EQ(item_seq(it.id), 12345u);
  }
}

// ---- Ping-pong, latency recording off, pinning ---------------------------------------------

RunConfig pingpong(std::string queue, std::uint64_t trips) {
  RunConfig cfg = flood(std::move(queue), 1, 1, trips);
  cfg.workload = WorkloadKind::pingpong;
  return cfg;
}

TEST(EnginePingpong, EveryItemMakesTheRoundTripOnceOnEveryKindOfQueue) {
  const std::uint64_t trips = kItems / 10;
  for (const auto* name : {"mutex_cv", "split_cv", "ring_spsc+spin", "ring_mpmc+park",
                           "moodycamel+park", "ws_pool", "sharded:split_cv"}) {
    const auto* e = default_registry().find(name);
    ASSERT_NE(e, nullptr) << name;
    const RunResult r = e->run(pingpong(name, trips));
    EXPECT_EQ(r.verdict, Verdict::ok) << name << ": " << r.detail;
    EXPECT_EQ(r.accepted, trips) << name;
    EXPECT_EQ(r.consumed, trips) << name;
    EXPECT_EQ(r.latency.count(), trips) << name << ": one round trip per item";
    EXPECT_GT(r.latency.min(), 0) << name;
    EXPECT_EQ(r.peak_depth, 1u) << name << ": one item in flight";
    EXPECT_GT(r.throughput(), 0) << name;
  }
}

TEST(EnginePingpong, ALostItemStallsTheRoundTripAndTheWatchdogSaysSo) {
  // Every 1000th push vanishes: the client waits for an answer that never comes.
  RunConfig cfg = pingpong("test_lossy", 5000);
  cfg.stall_timeout = 300ms;
  const RunResult r = run_pingpong<LossyQueue<Item>>(cfg);
  EXPECT_EQ(r.verdict, Verdict::stalled) << r.detail;
  EXPECT_NE(r.detail.find("no round trip"), std::string::npos) << r.detail;
  EXPECT_EQ(r.consumed, 999u) << "the 1000th push was the lost one";
}

TEST(EnginePingpong, ADuplicatedItemFailsTheRun) {
  // Every 1000th pop hands its item out twice: the server sees a sequence number again and the
  // client gets an answer that is not the item it sent.
  const RunResult r = run_pingpong<DuplicatingQueue<Item>>(pingpong("test_duplicating", 5000));
  EXPECT_EQ(r.verdict, Verdict::failed) << r.detail;
  EXPECT_GT(r.out_of_order, 0u) << r.detail;
  EXPECT_FALSE(r.checksum_ok) << r.detail;
}

TEST(EngineLatencyOff, CountsAndVerifiesEverythingButRecordsNoLatency) {
  for (const auto* name : {"split_cv", "ring_spsc+spin", "moodycamel+park"}) {
    RunConfig cfg = flood(name, 1, 1);
    cfg.record_latency = false;
    const RunResult r = default_registry().find(name)->run(cfg);
    EXPECT_EQ(r.verdict, Verdict::ok) << name << ": " << r.detail;
    EXPECT_EQ(r.consumed, kItems) << name;
    EXPECT_TRUE(r.checksum_ok) << name;
    EXPECT_EQ(r.latency.count(), 0u) << name;
    EXPECT_EQ(r.sojourn.count(), 0u) << name;
    EXPECT_GT(r.elapsed_s, 0) << name << ": the end time is still taken";
  }
}

TEST(EngineLatencyOff, StillCatchesLostItems) {
  RunConfig cfg = flood("test_lossy", 2, 1);
  cfg.record_latency = false;
  LossyQueue<Item>::dropped = 0;
  const RunResult r = run_engine<LossyQueue<Item>, FloodSchedule>(cfg);
  EXPECT_EQ(r.verdict, Verdict::failed);
  EXPECT_GE(r.lost, kItems / 1000) << r.detail;
  EXPECT_EQ(r.lost, LossyQueue<Item>::dropped.load()) << r.detail;
}

TEST(EnginePin, PinnedRunsRecordTheirPlanAndPass) {
  RunConfig cfg = flood("ring_mpmc+park", 2, 2);
  cfg.pin = true;
  const RunResult r = default_registry().find("ring_mpmc+park")->run(cfg);
  EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
  EXPECT_EQ(r.pinning, describe(plan_pinning(2, 2, allowed_cpus())));
  EXPECT_NE(r.pinning.find("p1:"), std::string::npos) << r.pinning;
  RunConfig pp = pingpong("ring_spsc+spin", 1000);
  pp.pin = true;
  const RunResult q = default_registry().find("ring_spsc+spin")->run(pp);
  EXPECT_EQ(q.verdict, Verdict::ok) << q.detail;
  EXPECT_EQ(q.pinning, describe(plan_pinning(1, 1, allowed_cpus())));
  const RunResult u =
      default_registry().find("ring_spsc+spin")->run(pingpong("ring_spsc+spin", 1000));
  EXPECT_TRUE(u.pinning.empty()) << "unpinned is the default";
}

// ---- Item sizes (--item-bytes) -----------------------------------------------------------------

// Each size through the registry's entries (so each size's wiring to its queue is what runs):
// every item verified, the size recorded; 8 and 16 bytes carry no time, so their floods record no
// latency, and the larger ones do.
TEST(EngineItemSizes, FloodAndPingpongCarryEverySizeVerified) {
  for (const char* name : {"ring_mpmc+park", "mutex_cv", "sharded:split_cv", "boost_spsc+park"}) {
    const auto* e = default_registry().find(name);
    ASSERT_NE(e, nullptr) << name;
    const bool spsc = std::string_view(name) == "boost_spsc+park";
    for (const std::size_t bytes : item_sizes) {
      SCOPED_TRACE(std::string(name) + " carrying " + std::to_string(bytes) + " bytes");
      ASSERT_TRUE(e->carries(bytes));
      RunConfig cfg = flood(name, spsc ? 1 : 2, spsc ? 1 : 2, kItems / 4);
      cfg.item_bytes = bytes;
      const RunResult r = e->run(cfg);
      EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
      EXPECT_EQ(r.consumed, kItems / 4);
      EXPECT_TRUE(r.checksum_ok);
      EXPECT_EQ(r.config.item_bytes, bytes);
      EXPECT_GT(r.elapsed_s, 0);
      const bool timed = bytes >= sizeof(Item);
      EXPECT_EQ(r.config.record_latency, timed);
      EXPECT_EQ(r.latency.count() > 0, timed) << r.latency.count();
      RunConfig pp = pingpong(name, 2000);
      pp.item_bytes = bytes;
      const RunResult q = e->run(pp);
      EXPECT_EQ(q.verdict, Verdict::ok) << q.detail;
      EXPECT_EQ(q.consumed, 2000u);
      EXPECT_EQ(q.latency.count(), 2000u);  // the client times every round trip at any size
    }
  }
}

// What a producer writes per item (core/item.hpp): built once with the bytes past the id and times
// zeroed, then stamped: the id and the times change, and the rest is left as it was built.
template <std::size_t N>
void check_stamp() {
  using V = Carried<N>;
  SCOPED_TRACE(std::to_string(N) + " bytes");
  V v{make_item_id(1, 2, 3), 40, 50};
  const auto bytes = [&v] { return reinterpret_cast<const unsigned char*>(&v); };
  EXPECT_EQ(v.id, make_item_id(1, 2, 3));
  constexpr std::size_t kept = Stamped<V> ? sizeof(Item) : sizeof(std::uint64_t);
  if constexpr (Stamped<V>) {
    EXPECT_EQ(v.intended_ns, 40);
    EXPECT_EQ(v.pushed_ns, 50);
  }
  for (std::size_t at = kept; at < N; ++at)
    ASSERT_EQ(bytes()[at], 0) << "byte " << at << " of a new item";
  unsigned char* const last = reinterpret_cast<unsigned char*>(&v) + N - 1;
  if constexpr (N >= 64) *last = 0xab;  // past the stamp: what stamp must leave alone
  stamp(v, make_item_id(4, 5, 6), 70, 80);
  EXPECT_EQ(v.id, make_item_id(4, 5, 6));
  if constexpr (Stamped<V>) {
    EXPECT_EQ(v.intended_ns, 70);
    EXPECT_EQ(v.pushed_ns, 80);
  }
  constexpr std::size_t zeroed = N >= 64 ? N - 1 : N;  // up to the marked byte
  for (std::size_t at = kept; at < zeroed; ++at)
    ASSERT_EQ(bytes()[at], 0) << "byte " << at << " of a stamped item";
  if constexpr (N >= 64) {
    EXPECT_EQ(*last, 0xab);
  }
}
template <std::size_t... N>
void check_stamps(std::index_sequence<N...>) {
  (check_stamp<N>(), ...);
}
TEST(EngineItemSizes, StampWritesTheIdAndTimesAndLeavesTheRestAsBuilt) {
  check_stamps(ItemSizes{});
}

TEST(EngineItemSizes, OtherSizesRunFloodAndPingpongOnly) {
  RunConfig cfg = flood("mutex_cv", 1, 1, 1000);
  cfg.workload = WorkloadKind::steady;
  cfg.item_bytes = 8;
  EXPECT_THROW(default_registry().find("mutex_cv")->run(cfg), std::invalid_argument);
}

// ---- The consumer's order check and checksum (TakenIds) -----------------------------------------

// A plain model of what a consumer checks: the sum of mix_id over every id, and per producer the
// next sequence (an id before it is out of order); ids of no producer of the run are not checked.
struct TakenModel {
  std::uint64_t sum = 0;
  std::uint64_t out_of_order = 0;
};
TakenModel model_of(const std::vector<std::uint64_t>& ids, std::size_t producers) {
  TakenModel m;
  std::vector<std::uint64_t> next(producers, 0);
  for (const std::uint64_t id : ids) {
    m.sum += mix_id(id);
    const std::uint64_t p = item_producer(id);
    if (p >= producers) continue;
    if (item_seq(id) < next[p]) ++m.out_of_order;
    next[p] = item_seq(id) + 1;
  }
  return m;
}

template <bool CheckOrder>
TakenModel taken_by(const std::vector<std::uint64_t>& ids, std::size_t producers,
                    std::size_t* kept = nullptr) {
  engine_detail::ConsumerSlot slot;
  slot.next_seq.assign(producers, 0);
  TakenModel m;
  engine_detail::TakenIds<CheckOrder> taken(slot);
  for (const std::uint64_t id : ids)
    taken.take(id, m.out_of_order);
  taken.finish();
  m.sum = slot.checksum.mixed;
  for (const engine_detail::IdRange& r : slot.checksum.ranges)
    m.sum += mix_ids(r.begin, r.end);
  if (kept) *kept = slot.checksum.ranges.size();
  return m;
}

// Streams of runs of each producer's items, switches, gaps, repeats of earlier ids, keyed ids and
// ids of no producer: the check and the sum agree with the model on every one.
TEST(TakenIds, AgreesWithAPlainModelOfOrderAndChecksum) {
  std::mt19937_64 rng(20261206);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t producers = 1 + rng() % 4;
    std::vector<std::uint64_t> next(producers, 0);
    std::vector<std::uint64_t> ids;
    while (ids.size() < 3000) {
      const std::uint64_t p = rng() % producers;
      switch (rng() % 8) {
        case 0:  // a gap: items of p lost
          next[p] += 1 + rng() % 5;
          break;
        case 1:  // a repeat of an earlier id
          if (!ids.empty()) ids.push_back(ids[rng() % ids.size()]);
          break;
        case 2:  // a keyed id
          ids.push_back(make_item_id(p, 1 + rng() % 7, next[p]++));
          break;
        case 3:  // an id of no producer of the run
          ids.push_back(make_item_id(producers + rng() % 3, 0, rng() % 100));
          break;
        default:  // a run of p's items in order, short or long
          for (std::uint64_t k = 1 + rng() % (rng() % 2 ? 8 : 60); k > 0; --k)
            ids.push_back(make_item_id(p, 0, next[p]++));
      }
    }
    const TakenModel want = model_of(ids, producers);
    const TakenModel got = taken_by<true>(ids, producers);
    EXPECT_EQ(got.sum, want.sum) << "trial " << trial;
    EXPECT_EQ(got.out_of_order, want.out_of_order) << "trial " << trial;
    const TakenModel unordered = taken_by<false>(ids, producers);
    EXPECT_EQ(unordered.sum, want.sum) << "trial " << trial;
    EXPECT_EQ(unordered.out_of_order, 0u) << "trial " << trial;
  }
}

// One producer's items in order are one kept range; more long runs than it keeps are mixed as
// they come, and the sum stays right.
TEST(TakenIds, KeepsLongRunsAsRangesWithinItsBound) {
  using T = engine_detail::TakenIds<true>;
  std::vector<std::uint64_t> ids;
  for (std::uint64_t seq = 0; seq < 100'000; ++seq)
    ids.push_back(make_item_id(0, 0, seq));
  std::size_t kept = 0;
  TakenModel got = taken_by<true>(ids, 1, &kept);
  EXPECT_EQ(kept, 1u);
  EXPECT_EQ(got.sum, mix_ids(ids.front(), ids.back() + 1));
  EXPECT_EQ(got.out_of_order, 0u);

  ids.clear();
  std::uint64_t next[2] = {0, 0};
  for (std::size_t run = 0; run < T::max_kept + 100; ++run)
    for (std::uint64_t k = 0; k < T::keep_from; ++k)
      ids.push_back(make_item_id(run % 2, 0, next[run % 2]++));
  got = taken_by<true>(ids, 2, &kept);
  EXPECT_LE(kept, T::max_kept);
  EXPECT_GE(kept, 100u);
  EXPECT_EQ(got.sum, model_of(ids, 2).sum);
  EXPECT_EQ(got.out_of_order, 0u);
}

}  // namespace
}  // namespace qb
