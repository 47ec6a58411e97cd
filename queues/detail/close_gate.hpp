// Makes close() exact for a lock-free queue that has no closed state of its own.
//
// The race it closes: a producer reads "not closed", is preempted, the queue is closed, a
// consumer finds the queue empty and reports `closed`, then the producer's push lands and is
// reported `ok`: an accepted item nobody will ever pop. Trying try_pop "once more" after seeing
// the flag does not help, the push can land later still.
//
// Fix: a producer announces itself in its own slot (one cache line per producer handle, so no
// line is shared between producers) before it checks the flag, and withdraws after its push. A
// consumer that has seen the flag waits until every slot is empty and then tries once more;
// any push that got past the flag is complete by then. Pushes that did not get past it report
// `closed`.
//
// The announcement is a Dekker pair: producer "store slot; load flag" against consumer "flag seen;
// load slots". Both sides need a full fence between their store and their load. The push path is
// the hot one and the drain runs once per consumer per close, so the fences are asymmetric, as in
// folly's asymmetric_thread_fence_light/heavy (folly/synchronization/AsymmetricThreadFence.h) and
// Linux's membarrier(2) documentation: a handle's push announces itself with plain stores and a
// compiler-only fence, and the consumer's drain issues
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full memory barrier on every CPU that
// is running a thread of this process (a thread that is not running has passed one in its context
// switch). Together they order like a pair of seq_cst fences: either the producer's slot store is
// visible to the drain's scan, or the producer's flag load comes after the barrier and sees the
// flag. Cost on the push path: two plain stores to an owned line and a load of the read-mostly
// flag; no locked instruction. Those two stores are not free: behind a queue's own store to a
// contended line they hold the store buffer, and `qbench bare` driving boost_spsc through the
// wrapper measured 13.5 against 19 M items/s. A handle whose owner promises that close() comes
// after its last push (CloseRace::after_pushes) has no race to win and skips the slot (no_slot).
//
// Where membarrier is not available (kernels before 4.14, a seccomp filter that refuses it) the
// light side is a seq_cst fence instead, decided once per process. Pushes without a handle (slot 0,
// shared by any thread) keep the locked RMW pair, which needs no help from the drain.
//
// ThreadSanitizer sees the slot stores and loads as atomics (release/acquire on the withdrawal, so
// the drain's scan happens-after the push it waited for); it does not model the fences, which
// decide only whether an item is counted, never a data race. The close-race tests
// (tests/queue_stress_test.cpp QueueCloseRace, tests/ws_deque_test.cpp) would catch a lost push.
#pragma once

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "spin.hpp"

namespace qb::detail {

// The process-wide asymmetric fence (see the top of this file).
class AsymmetricFence {
 public:
  // True when the heavy side is membarrier; decided on first use, once per process.
  static bool expedited() noexcept {
    static const bool registered = [] {
      const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
      if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
      return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    }();
    return registered;
  }
  // The hot side: a compiler fence when the heavy side is membarrier, else a full fence.
  static void light(bool expedited) noexcept {
    if (expedited) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
  }
  // The cold side: a full barrier on every running thread of the process, and on this one.
  static void heavy(bool expedited) noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (expedited && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
      // Registered, so this cannot fail (EINVAL/EPERM only without registration): if it did, no
      // barrier was run, and an item might be missed; abort loudly rather than lose it quietly.
      std::abort();
    }
  }
};

class CloseGate {
 public:
  // Slot 0 is shared by pushes made without a handle; handles 0..n-1 get slots 1..n. A handle
  // index beyond n (more handles than the queue was built for) shares slot 0 too: a handle slot
  // is written by its handle's thread alone (the handle contract, queues/concept.hpp).
  explicit CloseGate(std::size_t producer_slots)
      : nslots_(producer_slots + 1),
        slots_(std::make_unique<Slot[]>(nslots_)),
        expedited_(AsymmetricFence::expedited()) {}

  [[nodiscard]] std::size_t slot_for_handle(std::size_t i) const noexcept {
    return i + 1 < nslots_ ? i + 1 : anonymous_slot;
  }
  static constexpr std::size_t anonymous_slot = 0;
  // A handle whose owner closes the queue only after its last push (CloseRace::after_pushes,
  // queues/concept.hpp) passes no slot: no store per push; the flag is still checked.
  static constexpr std::size_t no_slot = ~std::size_t{0};

  // Returns false (and enters nothing) when the queue is closed.
  QB_ALWAYS_INLINE [[nodiscard]] bool enter(std::size_t slot) noexcept {
    // relaxed: no race with close() to win here (the owner's promise); the flag only stops pushes.
    if (slot == no_slot) return !closed_.load(std::memory_order_relaxed);
    auto& busy = slots_[slot].busy;
    if (slot == anonymous_slot) {
      // seq_cst with the closed_ load below and the drain's fence: the Dekker pair with close().
      busy.fetch_add(1, std::memory_order_seq_cst);
      if (closed_.load(std::memory_order_seq_cst)) {
        leave(slot);
        return false;
      }
      return true;
    }
    // relaxed + the light fence: the Dekker pair with the drain's heavy fence (top of the file).
    busy.store(1, std::memory_order_relaxed);
    AsymmetricFence::light(expedited_);
    // relaxed: ordered by the fence pair; the closer's store is seq_cst.
    if (closed_.load(std::memory_order_relaxed)) {
      busy.store(0, std::memory_order_relaxed);  // nothing pushed: nothing to publish
      return false;
    }
    return true;
  }
  QB_ALWAYS_INLINE void leave(std::size_t slot) noexcept {
    // release: the consumer that reads 0 here (acquire) sees the completed push.
    if (slot == no_slot) return;
    if (slot == anonymous_slot) {
      slots_[slot].busy.fetch_sub(1, std::memory_order_release);
    } else {
      slots_[slot].busy.store(0, std::memory_order_release);
    }
  }

  void close() noexcept { closed_.store(true, std::memory_order_seq_cst); }
  QB_ALWAYS_INLINE [[nodiscard]] bool closed() const noexcept {
    // acquire: a consumer that sees the flag then waits in wait_for_pushers().
    return closed_.load(std::memory_order_acquire);
  }

  // After closed() returned true: returns once every push that passed the flag has finished.
  // The first drain pays the heavy fence; later ones return at once (every push after it sees the
  // flag).
  void wait_for_pushers() noexcept {
    // acquire: pairs with the release below; the pushes that drain waited for are visible.
    if (drained_.load(std::memory_order_acquire)) return;
    AsymmetricFence::heavy(expedited_);
    for (std::size_t s = 0; s < nslots_; ++s) {
      // acquire: pairs with leave(); the push it covered is visible afterwards.
      while (slots_[s].busy.load(std::memory_order_acquire) != 0)
        cpu_relax();
    }
    drained_.store(true, std::memory_order_release);
  }

 private:
  struct alignas(cache_line) Slot {
    std::atomic<std::uint32_t> busy{0};
  };
  static_assert(sizeof(Slot) == cache_line, "one producer slot per cache line");

  alignas(cache_line) std::atomic<bool> closed_{false};
  std::atomic<bool> drained_{false};
  std::size_t nslots_;
  std::unique_ptr<Slot[]> slots_;
  bool expedited_;
};

}  // namespace qb::detail
