// The user's route into qbench (harness/user_main.hpp, examples/your-queue): a user's queue is
// registered beside the built-ins and marked as theirs, a name clash or an unusable name is one
// clear line and exit 2, and a broken user queue is caught by the engine as a built-in is (row
// written, marked, exit non-zero). scripts/test.sh builds the example against an installed
// qbench; this test covers the same API in the source tree.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "examples/your-queue/batch_queue.hpp"
#include "harness/user_main.hpp"

namespace qb {
namespace {

// A user queue whose name is a built-in's.
struct Clash : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "mutex_cv";
};

// A broken user queue (one type, so that this file instantiates the engine for few types):
// lossy reports every 500th push accepted and never stores it; deaf pops never hear close(), they
// wait until the test releases them.
struct UserBroken : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "user_broken";
  QueueStatus push(const Item& v, std::chrono::nanoseconds t) {
    if (lossy && ++pushes_ % 500 == 0) return QueueStatus::ok;
    return MutexCv<Item>::push(v, t);
  }
  [[nodiscard]] bool try_push(const Item& v) {
    if (lossy && ++pushes_ % 500 == 0) return true;
    return MutexCv<Item>::try_push(v);
  }
  QueueStatus pop(Item& out, std::chrono::nanoseconds t) {
    if (!deaf) return MutexCv<Item>::pop(out, t);
    if (MutexCv<Item>::try_pop(out)) return QueueStatus::ok;
    while (!release.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return QueueStatus::closed;
  }
  std::atomic<std::uint64_t> pushes_{0};
  static inline std::atomic<bool> lossy{false}, deaf{false}, release{false};
};

int call(const Registry& reg, std::vector<std::string> args) {
  args.insert(args.begin(), "your-queue");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return qbench_main(static_cast<int>(argv.size()), argv.data(), reg);
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/user_main_" + std::to_string(getpid()) + "_" + name;
}

TEST(UserMain, UserQueueIsRegisteredBesideEveryBuiltInAndMarkedAsTheirs) {
  const Registry reg = registry_with<BatchQueue<Item>>();
  ASSERT_EQ(reg.entries().size(), default_registry().entries().size() + 1);
  const QueueEntry* mine = reg.find("batch_cv");
  ASSERT_NE(mine, nullptr);
  EXPECT_TRUE(mine->user);
  EXPECT_EQ(mine->traits.order, Order::per_producer_fifo);
  for (const auto& e : default_registry().entries()) {
    const QueueEntry* builtin = reg.find(e.name);
    ASSERT_NE(builtin, nullptr) << e.name;
    EXPECT_FALSE(builtin->user) << e.name;
  }
}

TEST(UserMain, NameClashWithABuiltInIsRefused) {
  try {
    (void)registry_with<Clash>();
    FAIL() << "a user queue named mutex_cv was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'mutex_cv' is taken by a built-in queue"),
              std::string::npos)
        << e.what();
  }
  char name[] = "your-queue", list[] = "list";
  char* argv[] = {name, list};
  EXPECT_EQ(user_main<Clash>(2, argv), 2);
  EXPECT_EQ((user_main<BatchQueue<Item>, BatchQueue<Item>>(2, argv)), 2);  // twice: a clash
}

TEST(UserMain, NameThatQueueCannotTakeIsRefused) {
  // registry_with<Q>() checks Q::name with this (a type per bad name would cost this file an
  // instantiation of the engine each).
  EXPECT_THROW(Registry::check_name("my queue,2"), std::invalid_argument);
  EXPECT_THROW(Registry::check_name(""), std::invalid_argument);
  EXPECT_NO_THROW(Registry::check_name("sharded:4+park.v2_x-1"));
}

TEST(UserMain, RunsTheUserQueueBesideABuiltInAndWritesBothRows) {
  const Registry reg = registry_with<BatchQueue<Item>>();
  const std::string out = temp_path("ok.csv");
  std::remove(out.c_str());
  ASSERT_EQ(call(reg, {"run", "-q", "batch_cv,mutex_cv", "-w", "flood", "-p", "2", "-c", "2", "-n",
                       "20000", "--quiet", "--out", out}),
            0);
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find(",batch_cv,"), std::string::npos) << s.str().substr(0, 400);
  EXPECT_NE(s.str().find(",mutex_cv,"), std::string::npos);
  std::remove(out.c_str());
}

TEST(UserMain, BrokenUserQueueFailsVerificationWithItsRowWritten) {
  UserBroken::lossy = true;
  UserBroken::deaf = false;
  const Registry reg = registry_with<UserBroken>();
  const std::string out = temp_path("lossy.csv");
  std::remove(out.c_str());
  EXPECT_NE(call(reg, {"run", "-q", "user_broken", "-w", "flood", "-n", "20000", "--quiet", "--out",
                       out}),
            0);
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("user_broken"), std::string::npos);
  EXPECT_NE(s.str().find("failed"), std::string::npos) << s.str().substr(0, 400);
  std::remove(out.c_str());
}

TEST(UserMain, UserQueueThatNeverReturnsFromCloseIsAbandonedWithItsRowWritten) {
  UserBroken::lossy = false;
  UserBroken::deaf = true;
  const Registry reg = registry_with<UserBroken>();
  const std::string out = temp_path("deaf.csv");
  std::remove(out.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(call(reg, {"run", "-q", "user_broken", "-w", "flood", "-d", "100ms", "--stall-timeout",
                       "200ms", "--quiet", "--out", out}),
            0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("user_broken"), std::string::npos);
  EXPECT_NE(s.str().find("abandoned"), std::string::npos) << s.str().substr(0, 600);
  UserBroken::release = true;  // let the abandoned consumer finish
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace qb
