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

// A name --queue could not take (a comma separates queues).
struct Unlisted : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "my queue,2";
};

// Reports every 500th push accepted and never stores it.
struct UserLossy : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "user_lossy";
  QueueStatus push(const Item& v, std::chrono::nanoseconds t) {
    if (++pushes_ % 500 == 0) return QueueStatus::ok;
    return MutexCv<Item>::push(v, t);
  }
  [[nodiscard]] bool try_push(const Item& v) {
    if (++pushes_ % 500 == 0) return true;
    return MutexCv<Item>::try_push(v);
  }
  std::atomic<std::uint64_t> pushes_{0};
};

// Its pops never hear close(): they wait until the test releases them.
struct UserDeaf : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "user_deaf";
  QueueStatus pop(Item& out, std::chrono::nanoseconds) {
    if (MutexCv<Item>::try_pop(out)) return QueueStatus::ok;
    while (!release.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return QueueStatus::closed;
  }
  static inline std::atomic<bool> release{false};
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
  EXPECT_THROW((void)registry_with<Unlisted>(), std::invalid_argument);
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
  const Registry reg = registry_with<UserLossy>();
  const std::string out = temp_path("lossy.csv");
  std::remove(out.c_str());
  EXPECT_NE(
      call(reg, {"run", "-q", "user_lossy", "-w", "flood", "-n", "20000", "--quiet", "--out", out}),
      0);
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("user_lossy"), std::string::npos);
  EXPECT_NE(s.str().find("failed"), std::string::npos) << s.str().substr(0, 400);
  std::remove(out.c_str());
}

TEST(UserMain, UserQueueThatNeverReturnsFromCloseIsAbandonedWithItsRowWritten) {
  const Registry reg = registry_with<UserDeaf>();
  const std::string out = temp_path("deaf.csv");
  std::remove(out.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(call(reg, {"run", "-q", "user_deaf", "-w", "flood", "-d", "100ms", "--stall-timeout",
                       "200ms", "--quiet", "--out", out}),
            0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("user_deaf"), std::string::npos);
  EXPECT_NE(s.str().find("abandoned"), std::string::npos) << s.str().substr(0, 600);
  UserDeaf::release = true;  // let the abandoned consumer finish
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::remove(out.c_str());
}

}  // namespace
}  // namespace qb
