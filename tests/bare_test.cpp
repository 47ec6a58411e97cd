// qbench bare: each queue's bare reference verifies what it measured (counts and sums), catches
// queues that lose or duplicate items (try-only and blocking), never hangs, and the command
// rejects bad input with exit 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "harness/bare.hpp"
#include "harness/bare_cli.hpp"
#include "harness/registry.hpp"
#include "queues/all_queues.hpp"
#include "tests/qbench_process.hpp"

namespace qb {
namespace {

using namespace std::chrono_literals;

BareConfig flood(std::size_t p, std::size_t c) {
  BareConfig cfg;
  cfg.workload = WorkloadKind::flood;
  cfg.producers = p;
  cfg.consumers = c;
  cfg.duration = 50ms;
  cfg.stall_timeout = 300ms;
  return cfg;
}

BareConfig pingpong() {
  BareConfig cfg;
  cfg.workload = WorkloadKind::pingpong;
  cfg.round_trips = 2000;
  cfg.stall_timeout = 300ms;
  return cfg;
}

template <class Q>
void expect_verified(const BareResult& r) {
  EXPECT_EQ(r.verdict, Verdict::ok) << Q::name << ": " << r.detail;
  EXPECT_GT(r.consumed, 0u) << Q::name;
  EXPECT_EQ(r.consumed, r.pushed) << Q::name;
}

TEST(BareFlood, TryOnlyQueuesAreDrivenThroughTheirBaseAndVerified) {
  using Q = Waiting<RingSpsc<Item>, Park<>>;
  const BareResult r = run_bare<Q>(flood(1, 1));
  expect_verified<Q>(r);
  EXPECT_GT(r.items_per_s, 0);
  EXPECT_EQ(r.driven, "try_push/try_pop of ring_spsc, spinning");
}

TEST(BareFlood, ManyProducersAndConsumersOfAnMpmcQueue) {
  using Q = Waiting<RingMpmc<Item>, Spin>;
  expect_verified<Q>(run_bare<Q>(flood(3, 2)));
}

TEST(BareFlood, BlockingQueuesAreDrivenThroughTheirOwnCallsAndClosed) {
  using Q = MutexCv<Item>;
  const BareResult r = run_bare<Q>(flood(2, 2));
  expect_verified<Q>(r);
  EXPECT_EQ(r.driven, "push/pop of mutex_cv (its own blocking calls)");
}

TEST(BareFlood, ShardedMailboxesSpreadTheItemsOverEveryConsumer) {
  using Q = Sharded<SplitCv<Item>>;
  expect_verified<Q>(run_bare<Q>(flood(2, 3)));
}

// Try-only queues whose pops (SlowPop) or pushes (SlowPush) take 2 us more: the side that calls
// them is the slower one, so the ring runs full (slow consumer) or empty (slow producer).
inline void spin_2us() {
  const auto until = std::chrono::steady_clock::now() + 2us;
  while (std::chrono::steady_clock::now() < until) {
  }
}
class SlowPop : public RingMpmc<Item> {
 public:
  using RingMpmc<Item>::RingMpmc;
  static constexpr std::string_view name = "test_slow_pop";
  [[nodiscard]] bool try_pop(Item& out) {
    spin_2us();
    return RingMpmc<Item>::try_pop(out);
  }
};
class SlowPush : public RingMpmc<Item> {
 public:
  using RingMpmc<Item>::RingMpmc;
  static constexpr std::string_view name = "test_slow_push";
  [[nodiscard]] bool try_push(const Item& v) {
    spin_2us();
    return RingMpmc<Item>::try_push(v);
  }
};

// The reference's regime: its median depth, from counters published every bare_publish_every items
// per thread, is near the capacity behind a slow consumer and near 0 when its consumer keeps up.
TEST(BareFlood, MedianDepthShowsTheRegimeTheReferenceRanIn) {
  BareConfig cfg = flood(1, 1);
  cfg.capacity = 8192;
  cfg.duration = 200ms;
  const BareResult full = run_bare<Waiting<SlowPop, Spin>>(cfg);
  ASSERT_EQ(full.verdict, Verdict::ok) << full.detail;
  EXPECT_GE(full.median_depth, cfg.capacity - 2 * bare_publish_every) << "a full ring";
  EXPECT_LE(full.median_depth, cfg.capacity + 2 * bare_publish_every);
  const BareResult empty = run_bare<Waiting<SlowPush, Spin>>(cfg);
  ASSERT_EQ(empty.verdict, Verdict::ok) << empty.detail;
  EXPECT_LE(empty.median_depth, 2 * bare_publish_every) << "an empty ring";
}

TEST(BarePingpong, RoundTripsAreTimedAndChecked) {
  using Q = Waiting<BoostSpsc<Item>, Spin>;
  const BareResult r = run_bare<Q>(pingpong());
  expect_verified<Q>(r);
  EXPECT_GT(r.rtt_p50_ns, 0);
  EXPECT_LE(r.rtt_min_ns, r.rtt_p50_ns);
  EXPECT_LE(r.rtt_p50_ns, r.rtt_p99_ns);
  using B = MutexCv<Item>;
  expect_verified<B>(run_bare<B>(pingpong()));
}

// ---- Broken queues ----------------------------------------------------------------------------

// A try-only queue that reports every 1000th push as done and throws the item away.
class LossyTry : public RingMpmc<Item> {
 public:
  using RingMpmc<Item>::RingMpmc;
  static constexpr std::string_view name = "test_lossy_try";
  [[nodiscard]] bool try_push(const Item& v) {
    if (++pushes_ % 1000 == 0) return true;
    return RingMpmc<Item>::try_push(v);
  }

 private:
  std::atomic<std::uint64_t> pushes_{0};
};

// A try-only queue that hands every 1000th item out twice.
class DuplicatingTry : public RingMpmc<Item> {
 public:
  using RingMpmc<Item>::RingMpmc;
  static constexpr std::string_view name = "test_duplicating_try";
  [[nodiscard]] bool try_pop(Item& out) {
    if (again_) {
      again_ = false;
      out = last_;
      return true;
    }
    if (!RingMpmc<Item>::try_pop(out)) return false;
    if (++pops_ % 1000 == 0) {
      last_ = out;
      again_ = true;
    }
    return true;
  }

 private:
  Item last_{};
  bool again_ = false;  // one consumer in these tests
  std::uint64_t pops_ = 0;
};

// A blocking queue that reports every 1000th push as done and throws the item away.
class LossyBlocking : public MutexCv<Item> {
 public:
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "test_lossy_blocking";
  QueueStatus push(const Item& v, std::chrono::nanoseconds t) {
    if (++pushes_ % 1000 == 0) return QueueStatus::ok;
    return MutexCv<Item>::push(v, t);
  }

 private:
  std::atomic<std::uint64_t> pushes_{0};
};

TEST(BareBroken, ALossyTryQueueStallsTheConsumersAndIsReportedWithWhatWasLost) {
  const auto t0 = std::chrono::steady_clock::now();
  const BareResult r = run_bare<Waiting<LossyTry, Spin>>(flood(1, 1));
  EXPECT_EQ(r.verdict, Verdict::stalled) << r.detail;
  EXPECT_NE(r.detail.find("never consumed"), std::string::npos) << r.detail;
  EXPECT_LT(r.consumed, r.pushed);
  // The run is bounded: the duration, then at most two stall timeouts.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(BareBroken, ADuplicatingTryQueueFailsTheCount) {
  const BareResult r = run_bare<Waiting<DuplicatingTry, Spin>>(flood(1, 1));
  EXPECT_EQ(r.verdict, Verdict::failed) << r.detail;
  EXPECT_NE(r.detail.find("more items consumed than accepted"), std::string::npos) << r.detail;
}

TEST(BareBroken, ALossyBlockingQueueFailsTheCountAndTheSum) {
  const BareResult r = run_bare<LossyBlocking>(flood(2, 1));
  EXPECT_EQ(r.verdict, Verdict::failed) << r.detail;
  EXPECT_NE(r.detail.find("never consumed"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("checksum"), std::string::npos) << r.detail;
}

TEST(BareBroken, ALossyQueueFailsThePingPong) {
  // The lost reply leaves the sender waiting: the watchdog ends it.
  BareConfig cfg = pingpong();
  const BareResult r = run_bare<Waiting<LossyTry, Spin>>(cfg);
  EXPECT_EQ(r.verdict, Verdict::stalled) << r.detail;
}

// Every size of item_sizes, through the registry's entries (so the wiring of each size to its
// queue is what is tested): verified, and carrying what was asked for.
TEST(BareSizes, EachEntryCarriesEverySizeAndVerifiesIt) {
  const Registry& reg = default_registry();
  struct Shape {
    const char* queue;
    std::size_t p, c;
  };
  for (const Shape& s : {Shape{"ring_mpmc+spin", 2, 2}, Shape{"boost_spsc+park", 1, 1},
                         Shape{"mutex_cv", 2, 1}, Shape{"sharded:split_cv", 2, 3}}) {
    const QueueEntry* e = reg.find(s.queue);
    ASSERT_NE(e, nullptr) << s.queue;
    for (const std::size_t bytes : item_sizes) {
      SCOPED_TRACE(std::string(s.queue) + " carrying " + std::to_string(bytes) + " bytes");
      ASSERT_TRUE(e->carries(bytes));
      BareConfig f = flood(s.p, s.c);
      f.duration = 20ms;
      f.item_bytes = bytes;
      const BareResult r = e->bare(f);
      EXPECT_EQ(r.verdict, Verdict::ok) << r.detail;
      EXPECT_GT(r.consumed, 0u);
      EXPECT_EQ(r.consumed, r.pushed);
      EXPECT_EQ(r.item_bytes, bytes);
      EXPECT_NE(r.driven.find(std::string(e->bare_of)), std::string::npos) << r.driven;
      BareConfig pp = pingpong();
      pp.round_trips = 500;
      pp.item_bytes = bytes;
      const BareResult q = e->bare(pp);
      EXPECT_EQ(q.verdict, Verdict::ok) << q.detail;
      EXPECT_EQ(q.consumed, q.pushed);
      EXPECT_EQ(q.item_bytes, bytes);
    }
  }
}

// run --calibrate compares each row with the reference of the same shape and item size: before
// this, every row's reference carried the default 24 bytes, whatever the row carried.
TEST(BareSizes, ARunsReferenceHasItsShapeCapacityPlacementAndItemSize) {
  RunConfig c;
  c.workload = WorkloadKind::flood;
  c.producers = 3;
  c.consumers = 2;
  c.capacity = 4096;
  c.pin = true;
  c.placement = Placement::same_core;
  c.item_bytes = 256;
  c.duration = std::chrono::milliseconds(300);
  c.stall_timeout = std::chrono::seconds(7);
  const BareConfig b = cli::bare_config_for(c);
  EXPECT_EQ(b.workload, WorkloadKind::flood);
  EXPECT_EQ(b.producers, 3u);
  EXPECT_EQ(b.consumers, 2u);
  EXPECT_EQ(b.capacity, 4096u);
  EXPECT_TRUE(b.pin);
  EXPECT_EQ(b.placement, Placement::same_core);
  EXPECT_EQ(b.item_bytes, 256u);
  EXPECT_EQ(b.duration, std::chrono::milliseconds(300));
  EXPECT_EQ(b.stall_timeout, std::chrono::seconds(7));
  c.duration = std::chrono::seconds(30);  // as long as the run, within 0.2 to 1 s
  EXPECT_EQ(cli::bare_config_for(c).duration, std::chrono::seconds(1));
  c.duration = std::chrono::milliseconds(20);
  EXPECT_EQ(cli::bare_config_for(c).duration, std::chrono::milliseconds(200));
  for (const std::size_t bytes : item_sizes) {
    c.item_bytes = bytes;
    EXPECT_EQ(cli::bare_config_for(c).item_bytes, bytes);
  }
}

TEST(BareSizes, AQueueAUserRegistersCarriesItsItemOnly) {
  Registry reg;
  reg.add<LossyBlocking>(true);
  const QueueEntry& e = reg.entries().front();
  EXPECT_TRUE(e.carries(sizeof(Item)));
  for (const std::size_t bytes : item_sizes)
    EXPECT_EQ(e.carries(bytes), bytes == sizeof(Item)) << bytes;
  EXPECT_FALSE(e.carries(12));  // not a size at all
}

// ---- The command ------------------------------------------------------------------------------

class QbenchBare : public test::QbenchProcess {
 protected:
  test::Outcome qbench(const std::vector<std::string>& args) const {
    std::vector<std::string> all{"bare"};
    all.insert(all.end(), args.begin(), args.end());
    return run(QBENCH_BIN, all, 120);
  }
};

TEST_F(QbenchBare, MeasuresEachQueueOnceAndSharesTheFigureAcrossStrategies) {
  const test::Outcome o =
      qbench({"-q", "ring_spsc+spin,ring_spsc+park,mutex_cv", "-d", "20ms", "--reps", "2"});
  ASSERT_EQ(o.code, 0) << test::describe(o);
  EXPECT_NE(o.out.find("ring_spsc+park"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("(measured above)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("push/pop of mutex_cv"), std::string::npos) << o.out;
}

TEST_F(QbenchBare, SkipsAShapeTheQueueCannotServe) {
  const test::Outcome o = qbench({"-q", "boost_spsc+spin", "-p", "2", "-d", "10ms", "--reps", "1"});
  ASSERT_EQ(o.code, 0) << test::describe(o);
  EXPECT_NE(o.out.find("skipped: serves at most 1x1"), std::string::npos) << o.out;
}

TEST_F(QbenchBare, ATableForEachItemSize) {
  const test::Outcome o = qbench(
      {"-q", "ring_spsc+spin,mutex_cv", "--item-bytes", "8,256", "-d", "10ms", "--reps", "1"});
  ASSERT_EQ(o.code, 0) << test::describe(o);
  const auto small = o.out.find("items of 8 bytes:"), large = o.out.find("items of 256 bytes:");
  ASSERT_NE(small, std::string::npos) << o.out;
  ASSERT_NE(large, std::string::npos) << o.out;
  EXPECT_LT(small, large);
  EXPECT_NE(o.out.find("push/pop of mutex_cv", large), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("min .. max             depth   driven"), std::string::npos) << o.out;
}

TEST_F(QbenchBare, PingPongPrintsARoundTrip) {
  const test::Outcome o =
      qbench({"-q", "ring_spsc+spin", "-w", "pingpong", "--round-trips", "1000", "--reps", "1"});
  ASSERT_EQ(o.code, 0) << test::describe(o);
  EXPECT_NE(o.out.find("round trip p50"), std::string::npos) << o.out;
}

struct BadInput {
  std::vector<std::string> args;
  std::string flag;
};

TEST_F(QbenchBare, BadInputExitsTwoWithOneLineNamingTheFlag) {
  const std::vector<BadInput> cases = {
      {{"-q", "no_such_queue"}, "-q,--queue"},
      {{"-w", "steady"}, "-w,--workload"},
      {{"-p", "0"}, "-p,--producers"},
      {{"-c", "many"}, "-c,--consumers"},
      {{"--capacity", "1"}, "--capacity"},
      {{"-d", "0s"}, "-d,--duration"},
      {{"--reps", "0"}, "--reps"},
      {{"--round-trips", "2"}, "--round-trips"},
      {{"--stall-timeout", "forever"}, "--stall-timeout"},
      {{"-w", "pingpong", "-p", "2"}, "-p,--producers"},
      {{"--placement", "upside-down"}, "--placement"},
      {{"--item-bytes", "12"}, "--item-bytes"},
      {{"--item-bytes", "8,,16"}, "--item-bytes"},
      {{"--item-bytes", "lots"}, "--item-bytes"},
  };
  for (const auto& c : cases) {
    const test::Outcome o = qbench(c.args);
    EXPECT_EQ(o.code, 2) << c.flag << "\n" << test::describe(o);
    EXPECT_EQ(o.out, "") << c.flag;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_NE(o.err.find(c.flag), std::string::npos) << o.err;
  }
}

}  // namespace
}  // namespace qb
