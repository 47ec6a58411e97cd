#include "harness/calibrate.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <latch>
#include <memory>
#include <optional>
#include <thread>

#include "core/item.hpp"
#include "core/units.hpp"
#include "harness/affinity.hpp"
#include "harness/cli.hpp"
#include "harness/system_info.hpp"
#include "queues/detail/spin.hpp"
#include "queues/ring_spsc.hpp"
#include "results/csv.hpp"
#include "results/histogram.hpp"

namespace qb {

namespace {

// Waiting for the other thread: the CPU's pause hint while it is likely running on its own CPU,
// then a yield per check once `spin_limit` pauses went by without news (it was preempted, or it
// shares our only CPU and cannot run until we give the CPU up). Inline, no call per pause.
class Backoff {
 public:
  explicit Backoff(std::uint32_t spin_limit) noexcept : limit_(spin_limit) {}
  void reset() noexcept { spins_ = 0; }
  void wait() noexcept {
    if (spins_ < limit_) {
      ++spins_;
      detail::cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }

 private:
  std::uint32_t limit_;
  std::uint32_t spins_ = 0;
};

// About 0.2 ms of pauses on current x86 before the first yield.
constexpr std::uint32_t spin_limit_pinned = 4096;

// One atomic per 128 bytes: a line of its own plus the adjacent line, which Intel's spatial
// prefetcher fetches in pairs, so the two threads' lines never travel together.
struct alignas(2 * detail::cache_line) Line {
  std::atomic<std::uint64_t> value{0};
};
static_assert(sizeof(Line) == 2 * detail::cache_line, "each atomic owns a 128-byte block");

struct Placement {
  bool pinned = false;
  unsigned cpu_a = 0;
  unsigned cpu_b = 0;
  std::uint32_t spin_limit = spin_limit_pinned;
  std::string pinning;
  std::string note;
};

Placement place(const CalibrateOptions& o) {
  const std::vector<unsigned> cpus = o.cpus.empty() ? allowed_cpus() : o.cpus;
  Placement p;
  if (cpus.size() < 2) {
    p.pinning = "unpinned";
    p.note = "only CPU " + std::to_string(cpus.empty() ? 0 : cpus.front()) +
             " is allowed: both threads share it (oversubscribed), unpinned; the round trip "
             "measures the scheduler, not the cache";
    p.spin_limit = 0;
    return p;
  }
  const PinPlan plan = plan_pinning(1, 1, cpus);
  p.pinned = true;
  p.cpu_a = plan.producer_cpu.front();
  p.cpu_b = plan.consumer_cpu.front();
  p.pinning = "cpu" + std::to_string(p.cpu_a) + "<->cpu" + std::to_string(p.cpu_b);
  return p;
}

// Pins the calling thread as planned; a failure leaves it unpinned and says why in `error`.
void pin_as_planned(const Placement& p, unsigned cpu, std::string& error) {
  if (p.pinned) (void)pin_current_thread(cpu, &error);
}

void after_pinning(Placement& p, const std::string& error_a, const std::string& error_b) {
  const std::string& e = error_a.empty() ? error_b : error_a;
  if (e.empty()) return;
  p.pinned = false;  // what follows runs unpinned too, consistently with the figures reported
  p.pinning = "unpinned";
  if (!p.note.empty()) p.note += "; ";
  p.note += e + " (ran unpinned)";
}

struct RoundTrips {
  Histogram per_rtt_ps;  // one per-batch mean per sample, in picoseconds
};

void measure_round_trips(const CalibrateOptions& o, Placement& p, RoundTrips& out) {
  Line ping, pong;
  std::latch start(2);
  std::string error_a, error_b;
  const std::uint64_t total = o.warmup_round_trips + o.round_trips;
  const std::uint64_t batch = o.rtt_batch;
  const std::uint32_t spin_limit = p.spin_limit;

  std::thread b([&] {
    pin_as_planned(p, p.cpu_b, error_b);
    start.arrive_and_wait();
    Backoff backoff(spin_limit);
    for (std::uint64_t seq = 1; seq <= total; ++seq) {
      backoff.reset();
      // acquire: pairs with A's release, as a consumer taking over an item would.
      while (ping.value.load(std::memory_order_acquire) != seq)
        backoff.wait();
      // release: hands the answer back the way a real hand-off publishes data.
      pong.value.store(seq, std::memory_order_release);
    }
  });

  std::thread a([&] {
    pin_as_planned(p, p.cpu_a, error_a);
    start.arrive_and_wait();
    Backoff backoff(spin_limit);
    std::uint64_t seq = 0;
    const auto round_trip = [&]() noexcept {
      ++seq;
      // release: a producer's publication (on x86 a plain store either way, like relaxed).
      ping.value.store(seq, std::memory_order_release);
      backoff.reset();
      // acquire: pairs with B's release of the answer (a plain load on x86).
      while (pong.value.load(std::memory_order_acquire) != seq)
        backoff.wait();
    };
    for (std::uint64_t i = 0; i < o.warmup_round_trips; ++i)
      round_trip();
    for (std::uint64_t left = o.round_trips; left > 0;) {
      const std::uint64_t n = std::min(left, batch);
      const std::int64_t t0 = now_ns();
      for (std::uint64_t i = 0; i < n; ++i)
        round_trip();
      const std::int64_t t1 = now_ns();
      out.per_rtt_ps.record((t1 - t0) * 1000 / static_cast<std::int64_t>(n));
      left -= n;
    }
  });

  a.join();
  b.join();
  after_pinning(p, error_a, error_b);
}

struct RingRun {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint64_t consumed = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t sum = 0;
  bool extra = false;  // an item beyond the n pushed
};

void measure_ring(const CalibrateOptions& o, Placement& p, RingRun& r) {
  RingSpsc<Item> ring(QueueOptions{.capacity = o.ring_capacity, .producers = 1, .consumers = 1});
  Line producer_done;
  std::latch start(2);
  std::string error_a, error_b;
  const std::uint64_t n = o.ring_items;
  const std::uint32_t spin_limit = p.spin_limit;

  std::thread consumer([&] {
    pin_as_planned(p, p.cpu_b, error_b);
    start.arrive_and_wait();
    Backoff backoff(spin_limit);
    std::uint64_t next = 0, sum = 0, out_of_order = 0;
    Item item;
    while (next < n) {
      if (!ring.try_pop(item)) {
        // acquire: pairs with the producer's release after its last push, so every push is
        // visible; if the ring is still empty after that, items were lost.
        if (producer_done.value.load(std::memory_order_acquire) == 0) {
          backoff.wait();
          continue;
        }
        if (!ring.try_pop(item)) break;
      }
      backoff.reset();
      out_of_order += item.id != next;
      sum += item.id;
      ++next;
    }
    r.end_ns = now_ns();
    backoff.reset();
    // acquire: as above; after it, an item still in the ring is one too many.
    while (producer_done.value.load(std::memory_order_acquire) == 0)
      backoff.wait();
    r.extra = ring.try_pop(item);
    r.consumed = next;
    r.sum = sum;
    r.out_of_order = out_of_order;
  });

  std::thread producer([&] {
    pin_as_planned(p, p.cpu_a, error_a);
    start.arrive_and_wait();
    Backoff backoff(spin_limit);
    r.start_ns = now_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
      const Item item{.id = i, .intended_ns = 0, .pushed_ns = 0};
      backoff.reset();
      while (!ring.try_push(item))
        backoff.wait();
    }
    // release: publishes "no more pushes" after every push of this thread.
    producer_done.value.store(1, std::memory_order_release);
  });

  producer.join();
  consumer.join();
  after_pinning(p, error_a, error_b);
}

// 0 + 1 + ... + (n-1) modulo 2^64, the way the consumer's sum wraps.
std::uint64_t id_sum(std::uint64_t n) {
  return n % 2 == 0 ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
}

}  // namespace

Calibration calibrate(const CalibrateOptions& o) {
  if (o.round_trips == 0) throw std::invalid_argument("calibrate: round_trips must be >= 1");
  if (o.rtt_batch == 0) throw std::invalid_argument("calibrate: rtt_batch must be >= 1");
  if (o.ring_items == 0) throw std::invalid_argument("calibrate: ring_items must be >= 1");
  if (o.ring_capacity == 0) throw std::invalid_argument("calibrate: ring_capacity must be >= 1");

  Calibration c;
  c.round_trips = o.round_trips;
  c.rtt_batch = std::min(o.rtt_batch, o.round_trips);
  c.ring_items = o.ring_items;
  c.ring_capacity = o.ring_capacity;
  // The same measurement as the run context's clock_cost_ns (median of batches of reads).
  c.clock_read_ns = measure_clock_cost_ns();

  Placement p = place(o);
  RoundTrips rt;
  measure_round_trips(o, p, rt);
  // A sample of 0 ps (a batch faster than the clock's resolution) is clamped up to 1 ps: all
  // figures stay > 0.
  const auto ns = [](std::int64_t ps) {
    return static_cast<double>(std::max<std::int64_t>(ps, 1)) / 1000.0;
  };
  c.rtt_min_ns = ns(rt.per_rtt_ps.min());
  c.rtt_p50_ns = ns(rt.per_rtt_ps.percentile(50));
  c.rtt_p99_ns = ns(rt.per_rtt_ps.percentile(99));
  c.rtt_max_ns = ns(rt.per_rtt_ps.max());

  RingRun r;
  measure_ring(o, p, r);
  if (r.consumed != o.ring_items || r.out_of_order != 0 || r.sum != id_sum(o.ring_items) ||
      r.extra) {
    throw CalibrationError(
        "calibrate: the bare ring_spsc failed its check: consumed " + std::to_string(r.consumed) +
        " of " + std::to_string(o.ring_items) + " items, " + std::to_string(r.out_of_order) +
        " out of order, id sum " + std::to_string(r.sum) + " (expected " +
        std::to_string(id_sum(o.ring_items)) + ")" + (r.extra ? ", items left over" : ""));
  }
  const double seconds =
      static_cast<double>(std::max<std::int64_t>(r.end_ns - r.start_ns, 1)) * 1e-9;
  c.bare_ring_items_per_s = static_cast<double>(o.ring_items) / seconds;

  c.pinning = p.pinning;
  c.note = p.note;
  return c;
}

namespace cli {

namespace {

[[noreturn]] void bad(const std::string& flag, const std::string& value,
                      const std::string& accepted) {
  throw UsageError(flag + ": '" + value + "' is not accepted; expected " + accepted);
}

std::uint64_t count_value(const std::string& flag, const std::string& s, std::uint64_t hi,
                          const std::string& hi_text) {
  const auto n = units::parse_count(s);
  if (!n || *n < 1 || *n > hi)
    bad(flag, s, "a whole number from 1 to " + hi_text + "; k/M/G suffixes allowed, such as 100k");
  return *n;
}

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// ns with one decimal below 10 us (the figures of interest); a preempted batch in us or ms.
std::string ns_text(double ns) {
  if (ns < 1e4) return fixed(ns, 1) + " ns";
  if (ns < 1e7) return fixed(ns / 1e3, 1) + " us";
  return fixed(ns / 1e6, 2) + " ms";
}

}  // namespace

void add_calibrate_options(CLI::App& calibrate, CalibrateArgs& a) {
  calibrate
      .add_option("--round-trips", a.round_trips,
                  "timed ping-pong round trips between two pinned threads (1 to 1G)")
      ->capture_default_str();
  calibrate
      .add_option("--ring-items", a.ring_items,
                  "items through the bare ring_spsc, producer and consumer pinned (1 to 10G)")
      ->capture_default_str();
  calibrate.add_option("-o,--out", a.out,
                       "CSV file: created with a header and one row, or a row appended if it "
                       "has the same header; written through a temporary file and a rename");
  calibrate.add_flag("--overwrite", a.overwrite, "replace --out instead of appending");
  calibrate.footer(
      "Measures this machine's floor with no queue and no harness: the round trip of an atomic "
      "ping-pong between two CPUs (per round trip, the mean of batches of 16, so that the clock "
      "read is spread over the batch), the cost of one clock read, and the throughput of a bare "
      "ring_spsc with a check that every item arrived in order. About 1-2 s with the defaults.\n"
      "Exit codes: 0 measured, 1 the ring check failed or --out could not be written, 2 bad "
      "input (nothing measured, nothing written).");
}

std::string calibration_csv_header() {
  return calibration_table().header();
}

std::string calibration_csv_line(const RunContext& ctx, const Calibration& c) {
  RowSource src;
  src.context = &ctx;
  src.calibration = &c;
  return csv_line(calibration_table().row_values(src));
}

int calibrate_command(const CalibrateArgs& a, std::ostream& out, std::ostream& err) {
  CalibrateOptions o;
  std::unique_ptr<CsvFile> csv;
  try {
    o.round_trips = count_value("--round-trips", a.round_trips, 1'000'000'000, "1G (10^9)");
    o.ring_items = count_value("--ring-items", a.ring_items, 10'000'000'000, "10G (10^10)");
    if (a.overwrite && a.out.empty())
      throw UsageError(
          "--overwrite: needs --out FILE (it replaces that file instead of appending)");
    if (!a.out.empty())
      csv = std::make_unique<CsvFile>(a.out, calibration_csv_header(), a.overwrite);
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
    return 2;
  } catch (const OutputError& e) {
    err << "qbench: --out: " << e.what() << "\n";
    return 2;
  }

  const RunContext ctx = gather_context();
  if (!ctx.sanitizer.empty()) {
    err << "qbench: this is a " << ctx.sanitizer
        << " sanitizer build: its numbers are not results\n";
  }
  Calibration c;
  try {
    c = calibrate(o);
  } catch (const CalibrationError& e) {
    err << "qbench: " << e.what() << "\n";
    return 1;
  }

  const std::string per_rtt = " per round trip";
  out << "calibrate: " << ctx.cpu_model << ", " << ctx.cores << " cores, host " << ctx.host << "\n";
  out << "  pinning             " << c.pinning << "\n";
  if (!c.note.empty()) out << "  note                " << c.note << "\n";
  out << "  round trip min      " << ns_text(c.rtt_min_ns) << per_rtt << "\n";
  out << "  round trip p50      " << ns_text(c.rtt_p50_ns) << per_rtt << "\n";
  out << "  round trip p99      " << ns_text(c.rtt_p99_ns) << per_rtt << "\n";
  out << "  round trip max      " << ns_text(c.rtt_max_ns) << per_rtt << "\n";
  out << "  (" << c.round_trips << " round trips timed in batches of " << c.rtt_batch
      << "; each figure is a batch's mean, the clock read spread over the batch)\n";
  out << "  clock read          " << fixed(c.clock_read_ns, 1) << " ns"
      << " per qb::now_ns() (CLOCK_MONOTONIC)\n";
  out << "  bare ring_spsc      " << units::format_rate(c.bare_ring_items_per_s) << " items/s ("
      << c.ring_items << " items, capacity " << c.ring_capacity << ", all consumed in order)\n";
  out.flush();

  if (csv) {
    try {
      csv->add_line(calibration_csv_line(ctx, c));
      csv->commit();
    } catch (const OutputError& e) {
      err << "qbench: " << e.what() << "\n";
      return 1;
    }
    out << "  written to " << csv->path() << (csv->appended() ? " (appended)" : "") << "\n";
  }
  return 0;
}

}  // namespace cli
}  // namespace qb
