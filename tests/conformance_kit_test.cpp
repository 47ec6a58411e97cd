// The conformance kit (qbench/testing.hpp) on queues that are broken on purpose: each must fail
// the kit with its property named. CMakeLists.txt runs one filtered case per queue and passes
// only on the kit's failure message for that property (conformance_kit_catches_*); running this
// executable whole is meant to fail.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "qbench/testing.hpp"
#include "queues/mutex_cv.hpp"

namespace qb::kit_test {

// Reports every 1000th push accepted and never stores it.
struct Lossy : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "test_lossy";
  QueueStatus push(const Item& v, std::chrono::nanoseconds t) {
    return drop() ? QueueStatus::ok : MutexCv<Item>::push(v, t);
  }
  [[nodiscard]] bool try_push(const Item& v) { return drop() || MutexCv<Item>::try_push(v); }

 private:
  bool drop() { return ++pushes_ % 1000 == 0; }
  std::atomic<std::uint64_t> pushes_{0};
};

// A MutexCv that holds one item back every `Every` pops and hands it out on the next pop: again
// (Twist::duplicate) or after the item that followed it (Twist::swap).
enum class Twist { duplicate, swap };
template <Twist kTwist, std::uint64_t kEvery>
struct Twisting : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  QueueStatus pop(Item& out, std::chrono::nanoseconds t) {
    std::lock_guard lk(m_);  // one consumer at a time: the held item is shared
    if (held_) {
      held_ = false;
      out = item_;
      return QueueStatus::ok;
    }
    const QueueStatus s = MutexCv<Item>::pop(out, t);
    if (s != QueueStatus::ok || ++pops_ % kEvery != 0) return s;
    if constexpr (kTwist == Twist::duplicate) {
      item_ = out;
      held_ = true;
    } else if (Item next; MutexCv<Item>::try_pop(next)) {
      item_ = out;
      held_ = true;
      out = next;
    }
    return s;
  }
  [[nodiscard]] bool try_pop(Item& out) {
    return pop(out, std::chrono::nanoseconds{0}) == QueueStatus::ok;
  }

 private:
  std::mutex m_;
  std::uint64_t pops_ = 0;
  Item item_{};
  bool held_ = false;
};

// Hands every 1000th item out twice.
struct Duplicating : Twisting<Twist::duplicate, 1000> {
  using Twisting::Twisting;
  static constexpr std::string_view name = "test_duplicating";
};

// Declares FIFO but swaps two neighbours every 100 pops.
struct Reordering : Twisting<Twist::swap, 100> {
  using Twisting::Twisting;
  static constexpr std::string_view name = "test_reordering";
};

// close() is never heard: waiters stay asleep, pushes keep being accepted.
struct DeafToClose : MutexCv<Item> {
  using MutexCv<Item>::MutexCv;
  static constexpr std::string_view name = "test_deaf_to_close";
  void close() noexcept {}
  [[nodiscard]] bool closed() const noexcept { return false; }
};

}  // namespace qb::kit_test

QBENCH_CONFORMANCE(Broken, qb::kit_test::Lossy, qb::kit_test::Duplicating, qb::kit_test::Reordering,
                   qb::kit_test::DeafToClose);
