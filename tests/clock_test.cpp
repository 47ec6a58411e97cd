// The run's clock (harness/clock.hpp): when the TSC is chosen, from facts of fake machines, and,
// on this machine, that the chosen clock keeps CLOCK_MONOTONIC's time, never runs backwards on a
// thread, and that a sleep to one of its times ends after that time.
#include "harness/clock.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using qb::ClockChoice;
using qb::ClockFacts;

ClockFacts usable() {
  return ClockFacts{.x86_64 = true, .invariant_tsc = true, .rdtscp = true, .clocksource = "tsc"};
}

TEST(ClockPlan, AutoTakesTheTscWhereTheCpuAndTheKernelTrustIt) {
  EXPECT_TRUE(qb::plan_clock(ClockChoice::automatic, usable()).tsc);
  EXPECT_TRUE(qb::plan_clock(ClockChoice::tsc, usable()).tsc);
  EXPECT_FALSE(qb::plan_clock(ClockChoice::monotonic, usable()).tsc);
}

TEST(ClockPlan, AutoFallsBackAndSaysWhy) {
  struct Case {
    ClockFacts facts;
    std::string why;
  };
  std::vector<Case> cases;
  ClockFacts f = usable();
  f.clocksource = "kvm-clock";  // a VM whose kernel does not trust the TSC
  cases.push_back({f, "the kernel keeps time with kvm-clock, not the TSC"});
  f = usable();
  f.clocksource = "";
  cases.push_back({f, "an unknown clocksource"});
  f = usable();
  f.invariant_tsc = false;  // an old CPU: the rate follows the frequency
  cases.push_back({f, "not invariant"});
  f = usable();
  f.rdtscp = false;
  cases.push_back({f, "no rdtscp"});
  f = usable();
  f.x86_64 = false;
  cases.push_back({f, "not an x86-64 CPU"});
  for (const Case& c : cases) {
    const qb::ClockPlan p = qb::plan_clock(ClockChoice::automatic, c.facts);
    EXPECT_FALSE(p.tsc) << c.why;
    EXPECT_NE(p.why.find(c.why), std::string::npos) << p.why;
    try {
      qb::plan_clock(ClockChoice::tsc, c.facts);
      ADD_FAILURE() << "tsc accepted where " << c.why;
    } catch (const qb::ClockUnavailable& e) {
      EXPECT_NE(std::string(e.what()).find(c.why), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected auto or monotonic"), std::string::npos);
    }
  }
}

TEST(ClockFacts, ReadsTheKernelsClocksourceFromSysfs) {
  const auto root =
      std::filesystem::temp_directory_path() / ("qbench-clock-test-" + std::to_string(::getpid()));
  const auto dir = root / "devices/system/clocksource/clocksource0";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "current_clocksource") << "kvm-clock\n";
  EXPECT_EQ(qb::read_clock_facts(root.string()).clocksource, "kvm-clock");
  std::filesystem::remove_all(root);
  EXPECT_EQ(qb::read_clock_facts(root.string()).clocksource, "");  // missing: unknown
}

// Each clock this machine can give: the chosen one must agree with CLOCK_MONOTONIC.
std::vector<ClockChoice> choices_here() {
  std::vector<ClockChoice> out = {ClockChoice::monotonic};
  if (qb::plan_clock(ClockChoice::automatic, qb::read_clock_facts()).tsc)
    out.push_back(ClockChoice::tsc);
  return out;
}

TEST(Clock, KeepsMonotonicTimeAndNeverRunsBackwards) {
  for (ClockChoice c : choices_here()) {
    const std::string what = qb::select_clock(c);
    SCOPED_TRACE(what);
    EXPECT_EQ(qb::clock_description(), what);
    // Agreement with CLOCK_MONOTONIC over 200 ms: a reading bracketed by two monotonic reads.
    // The bound (20 us) is far above a calibration error (about 1 us per second) and far below a
    // wrong rate (a TSC scaled at the wrong frequency is off by milliseconds here).
    for (int i = 0; i < 5; ++i) {
      const std::int64_t a = qb::monotonic_ns();
      const std::int64_t t = qb::now_ns();
      const std::int64_t b = qb::monotonic_ns();
      EXPECT_GT(t, a - 20'000);
      EXPECT_LT(t, b + 20'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    std::int64_t prev = qb::now_ns(), backwards = 0;
    for (int i = 0; i < 200'000; ++i) {
      const std::int64_t t = qb::now_ns();
      backwards += t < prev;
      prev = t;
    }
    EXPECT_EQ(backwards, 0);
  }
  qb::select_clock(ClockChoice::monotonic);
}

TEST(Clock, ASleepToOneOfItsTimesEndsAfterIt) {
  for (ClockChoice c : choices_here()) {
    SCOPED_TRACE(qb::select_clock(c));
    for (int i = 0; i < 5; ++i) {
      const std::int64_t until = qb::now_ns() + 2'000'000;
      qb::sleep_until_ns(until);
      EXPECT_GE(qb::now_ns(), until);
    }
    qb::sleep_until_ns(qb::now_ns() - 1'000'000);  // passed: returns at once
  }
  qb::select_clock(ClockChoice::monotonic);
}

TEST(Clock, TscIsRefusedWhereItIsNotUsable) {
  if (qb::plan_clock(ClockChoice::automatic, qb::read_clock_facts()).tsc)
    GTEST_SKIP() << "this machine's TSC is usable";
  EXPECT_THROW(qb::select_clock(ClockChoice::tsc), qb::ClockUnavailable);
}

}  // namespace
