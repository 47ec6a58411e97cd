// The controller: everything about a run that is not per item, compiled once and shared by every
// driver (flood/steady/burst, tree, pingpong, calibrate).
//
// A driver starts its worker threads (per-item loops, templates per queue and workload), meets
// them at a StartLine, and hands the calling thread to control(): on a fixed tick it asks the
// driver for the counters its workers publish (Driver::poll), asks it to shut the run down once
// every producer is done, and watches for stalls, the memory cap and signals. Any of those aborts
// the run (Driver::abort: a stop flag and close()), and from the abort on, every thread gets the
// same short deadline to return: a thread still inside a broken queue then is detached, never
// waited for one after another. Verifier turns a finished run's checks into its verdict.
#pragma once

#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/kinds.hpp"
#include "harness/system_info.hpp"
#include "queues/detail/spin.hpp"
#include "results/run_result.hpp"

namespace qb {

// Set from the SIGINT/SIGTERM handler; the controller ends the current run when it sees it.
inline std::atomic<bool> g_interrupted{false};

// Waits until `t`: sleeps while it is far off, then spins the last stretch (the kernel's wake-up
// takes 30-50 us on a VM even with 1 ns timer slack). Precise, and burns the CPU it spins.
inline void spin_until_ns(std::int64_t t) noexcept {
  constexpr std::int64_t spin_window = 60'000;
  std::int64_t now = now_ns();
  if (t - now > spin_window) {
    sleep_until_ns(t - spin_window);
    now = now_ns();
  }
  while (now < t) {
    detail::cpu_relax();
    now = now_ns();
  }
}

// Where every worker and the controller meet: the run starts at t0, 2 ms after the controller
// arrives, so that every thread is already waiting when the clock gets there.
class StartLine {
 public:
  explicit StartLine(std::size_t workers) : latch_(static_cast<std::ptrdiff_t>(workers + 1)) {}
  // Worker: pins itself to `cpu` (when given; a refusal fails the run afterwards, and says why in
  // `error` when given), waits for the others, then until t0. Returns t0.
  std::int64_t wait(std::optional<unsigned> cpu, std::string* error = nullptr);
  // Controller: sets t0 and arrives. Returns t0.
  std::int64_t go();
  [[nodiscard]] bool pin_failed() const { return pin_failed_.load(std::memory_order_relaxed); }

 private:
  std::latch latch_;
  std::atomic<std::int64_t> t0_{0};
  std::atomic<bool> pin_failed_{false};
};

// The CPU of worker `index` in a pin plan's list, or none when the run is not pinned.
inline std::optional<unsigned> cpu_of(const std::vector<unsigned>& cpus, std::size_t index) {
  return index < cpus.size() ? std::optional<unsigned>(cpus[index]) : std::nullopt;
}

// The worker threads of one run, each with the flag it sets (release) as its last action.
class Workers {
 public:
  Workers() = default;
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers();  // detaches what was neither joined nor abandoned (only on an exception path)

  void add(std::thread t, const std::atomic<bool>& done);
  [[nodiscard]] std::size_t running() const;
  // Joins every thread whose flag is set by `deadline` (ns, now_ns's clock); detaches the rest,
  // which keep their own reference to the run's shared state. One deadline for all of them.
  // Returns how many were abandoned.
  std::size_t join_until(std::int64_t deadline);

 private:
  std::vector<std::thread> threads_;
  std::vector<const std::atomic<bool>*> done_;
};

// What a driver's workers have published, read by the controller on each tick.
struct Published {
  std::uint64_t offered = 0;   // items (tree: roots) producers tried to push
  std::uint64_t accepted = 0;  // of which the queue took
  std::uint64_t refused = 0;   // of which it turned away (timeout, drop)
  std::uint64_t consumed = 0;  // items (tree: nodes) consumers took; the watchdog's progress
  std::uint64_t expected = 0;  // items (nodes) that should be consumed once all is done
  std::uint64_t depth = 0;     // in the queue now
  bool producers_done = false;
  bool finished = false;  // every worker has returned: the run is over
  // Items still owed to the consumers, and pushes in progress (offered, not yet answered).
  [[nodiscard]] std::uint64_t owed() const { return expected > consumed ? expected - consumed : 0; }
  [[nodiscard]] std::uint64_t in_push() const {
    return offered > accepted + refused ? offered - accepted - refused : 0;
  }
};

// A workload's side of the controller. Called once per tick, never per item.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual Published poll() = 0;
  // Per-tick work beyond the watchdog (time-series samples, poison pills still to send).
  virtual void on_tick(const Published&, std::int64_t /*now*/, std::uint64_t /*rss*/) {}
  // Every producer is done: may the consumers be told to stop? (A tree is not finished until
  // every node of every root has run.)
  [[nodiscard]] virtual bool ready_to_shut_down(const Published&) const { return true; }
  // Tells the consumers to stop (close, poison pills or a stop flag), once.
  virtual void shut_down(std::int64_t now) = 0;
  // Ends the run now: stop flags, close() on every queue.
  virtual void abort() = 0;
  // No progress for the stall timeout: is that a stall (work left, or a push stuck), or just
  // nothing to do? After shut_down, consumers that do not return are always a stall.
  [[nodiscard]] virtual bool stuck(const Published& p) const { return p.owed() || p.in_push(); }
  // The sentence a stalled run reports.
  [[nodiscard]] virtual std::string stall_detail(const Published& p, std::int64_t stall_ns,
                                                 bool after_shutdown) const;
  // Extra time the consumers may take to see the shutdown (a polling consumer's interval).
  [[nodiscard]] virtual std::int64_t shutdown_grace_ns() const { return 0; }
};

struct ControlOptions {
  std::int64_t t0 = 0;
  std::int64_t interval_ns = 10'000'000;  // the tick (at least 1 ms)
  std::int64_t stall_ns = 5'000'000'000;
  std::uint64_t max_rss_bytes = 0;  // 0: no cap
};

struct ControlOutcome {
  Verdict verdict = Verdict::ok;  // ok, stalled, memory_cap or interrupted
  std::string detail;
  Published last;                   // what the workers had published at the last tick
  std::int64_t last_progress = 0;   // when `consumed` last moved
  std::int64_t shutdown_at = 0;     // when the consumers were told to stop (0: never)
  std::uint64_t peak_depth = 0;     // over the ticks
  std::uint64_t median_depth = 0;   // over the ticks (the lower middle of an even count)
  std::uint64_t depth_samples = 0;  // the ticks peak_depth and median_depth are over
  std::size_t abandoned = 0;        // threads detached inside the queue
};

// How long the threads of an aborted run have to return: the stall timeout, at least 50 ms and
// at most 2 s, one deadline for all of them. A stalled run's grace is cut to what is left of a
// second stall timeout after its last progress, so that it ends within two stall timeouts of it
// (stall timeouts under 50 ms: within the stall timeout + 50 ms).
std::int64_t abort_grace_ns(std::int64_t stall_ns);

// Runs the controller on the calling thread until every worker has returned or the run was
// aborted and its grace is over; joins or abandons the workers.
ControlOutcome control(Driver& d, Workers& w, const ControlOptions& o);

// The counts of a run whose threads were abandoned: what they had published at the last tick
// (their slots may still be written, so nothing else is read); elapsed from t0 to `end`. A stall
// strands what was accepted and not consumed: it is reported as lost.
void report_published(RunResult& r, const ControlOutcome& o, std::int64_t t0, std::int64_t end);

// A finished run's checks. Each failed one adds a reason; the verdict is failed if any did.
class Verifier {
 public:
  void fail(std::string why) { reasons_.push_back(std::move(why)); }
  // expected vs consumed units (items, nodes, round trips): sets lost / duplicated.
  void counts(std::uint64_t expected, std::uint64_t consumed, std::string_view unit,
              std::uint64_t& lost, std::uint64_t& duplicated);
  void checksum(bool ok, bool& checksum_ok);
  void order(std::uint64_t out_of_order, std::string_view what = "per-producer order");
  void pinned(bool pin_failed, const std::string& pinning);
  [[nodiscard]] bool ok() const { return reasons_.empty(); }
  // A failed check makes the verdict `failed`, with the reasons as its detail.
  void settle(Verdict& verdict, std::string& detail) const {
    if (ok()) return;
    verdict = Verdict::failed;
    detail = this->detail();
  }
  // "reason; reason": empty when every check passed.
  [[nodiscard]] std::string detail() const;

 private:
  std::vector<std::string> reasons_;
};

}  // namespace qb
