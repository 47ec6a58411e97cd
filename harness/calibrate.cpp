#include "harness/calibrate.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "core/item.hpp"
#include "core/units.hpp"
#include "harness/affinity.hpp"
#include "harness/backoff.hpp"
#include "harness/cli.hpp"
#include "harness/clock.hpp"
#include "harness/controller.hpp"
#include "harness/system_info.hpp"
#include "harness/usage.hpp"
#include "queues/detail/spin.hpp"
#include "queues/ring_spsc.hpp"
#include "results/csv.hpp"
#include "results/histogram.hpp"

namespace qb {

namespace {

// One atomic per 128 bytes: a line of its own plus the adjacent line, which Intel's spatial
// prefetcher fetches in pairs, so the two threads' lines never travel together.
struct alignas(detail::false_sharing_block) Line {
  std::atomic<std::uint64_t> value{0};
};
static_assert(sizeof(Line) == detail::false_sharing_block, "each atomic owns a 128-byte block");

struct PairPlace {
  bool pinned = false;
  unsigned cpu_a = 0;
  unsigned cpu_b = 0;
  std::uint32_t spin_limit = spin_limit_pinned;
  std::string pinning;
  std::string note;
};

PairPlace place(const CalibrateOptions& o) {
  const std::vector<unsigned> cpus = o.cpus.empty() ? allowed_cpus() : o.cpus;
  PairPlace p;
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

// The two threads of one measurement (a leads: it sends, or produces; b answers, or consumes),
// run by the shared controller. Held by a shared_ptr: a thread the controller had to abandon
// keeps it alive.
struct Pair {
  StartLine start{2};
  alignas(detail::false_sharing_block) std::atomic<std::uint64_t> progress{0};  // a's, every 1024
  alignas(detail::false_sharing_block) std::atomic<bool> stop{false};
  std::atomic<bool> a_done{false};
  std::atomic<bool> b_done{false};
  std::string error_a, error_b;  // pinning refused
};

// A measurement's side of the controller: progress is what `a` publishes; a stall stops both.
class PairDriver final : public Driver {
 public:
  explicit PairDriver(Pair& p) : p_(p) {}
  Published poll() override {
    Published s;
    s.consumed = p_.progress.load(std::memory_order_relaxed);
    s.producers_done = p_.a_done.load(std::memory_order_acquire);
    s.finished = s.producers_done && p_.b_done.load(std::memory_order_acquire);
    return s;
  }
  void shut_down(std::int64_t) override {}
  void abort() override { p_.stop.store(true, std::memory_order_relaxed); }
  [[nodiscard]] bool stuck(const Published&) const override { return true; }
  [[nodiscard]] std::string stall_detail(const Published& s, std::int64_t stall_ns,
                                         bool) const override {
    return "calibrate: the measuring threads made no progress for " +
           std::to_string(stall_ns / 1'000'000) + " ms (after " + std::to_string(s.consumed) + ")";
  }

 private:
  Pair& p_;
};

// Runs a and b (pinned as planned) under the controller; a stall or a signal ends the
// measurement with CalibrationError. A refused pin leaves the measurement unpinned, with a note.
template <class A, class B>
void run_pair(PairPlace& place, A a, B b) {
  auto pair = std::make_shared<Pair>();
  const auto cpu = [&](unsigned c) {
    return place.pinned ? std::optional<unsigned>(c) : std::nullopt;
  };
  Workers workers;
  workers.add(std::thread([pair, b, c = cpu(place.cpu_b)]() mutable {
                pair->start.wait(c, &pair->error_b);
                b(*pair);
                pair->b_done.store(true, std::memory_order_release);
              }),
              pair->b_done);
  workers.add(std::thread([pair, a, c = cpu(place.cpu_a)]() mutable {
                pair->start.wait(c, &pair->error_a);
                a(*pair);
                pair->a_done.store(true, std::memory_order_release);
              }),
              pair->a_done);
  const std::int64_t t0 = pair->start.go();
  PairDriver driver(*pair);
  const ControlOutcome o = control(driver, workers, {.t0 = t0, .stall_ns = 5'000'000'000});
  if (o.verdict != Verdict::ok) throw CalibrationError(o.detail);
  const std::string& e = pair->error_a.empty() ? pair->error_b : pair->error_a;
  if (e.empty()) return;
  place.pinned = false;  // what follows runs unpinned too, consistently with the figures reported
  place.pinning = "unpinned";
  if (!place.note.empty()) place.note += "; ";
  place.note += e + " (ran unpinned)";
}

struct RoundTrips {
  Histogram per_rtt_ps;  // one per-batch mean per sample, in picoseconds
};

void measure_round_trips(const CalibrateOptions& o, PairPlace& p, RoundTrips& out) {
  // Shared by the two threads and kept alive by them (see Pair).
  struct Lines {
    Line ping, pong;
  };
  auto lines = std::make_shared<Lines>();
  auto rtt = std::make_shared<Histogram>();
  const std::uint64_t total = o.warmup_round_trips + o.round_trips;
  const std::uint64_t batch = o.rtt_batch;
  const std::uint64_t warmup = o.warmup_round_trips;
  const std::uint64_t timed = o.round_trips;
  const std::uint32_t spin_limit = p.spin_limit;

  auto answer = [lines, total, spin_limit](Pair& pair) {
    const std::atomic<std::uint64_t>& ping = lines->ping.value;
    std::atomic<std::uint64_t>& pong = lines->pong.value;
    Backoff backoff(spin_limit, pair.stop);
    for (std::uint64_t seq = 1; seq <= total; ++seq) {
      backoff.reset();
      // acquire: pairs with A's release, as a consumer taking over an item would.
      while (ping.load(std::memory_order_acquire) != seq)
        if (!backoff.wait()) return;
      // release: hands the answer back the way a real hand-off publishes data.
      pong.store(seq, std::memory_order_release);
    }
  };
  auto send = [lines, rtt, warmup, timed, batch, spin_limit](Pair& pair) {
    std::atomic<std::uint64_t>& ping = lines->ping.value;
    const std::atomic<std::uint64_t>& pong = lines->pong.value;
    Histogram& per_rtt = *rtt;
    Backoff backoff(spin_limit, pair.stop);
    std::uint64_t seq = 0;
    const auto round_trip = [&]() noexcept {
      ++seq;
      // release: a producer's publication (on x86 a plain store either way, like relaxed).
      ping.store(seq, std::memory_order_release);
      backoff.reset();
      // acquire: pairs with B's release of the answer (a plain load on x86).
      while (pong.load(std::memory_order_acquire) != seq)
        if (!backoff.wait()) return false;
      // relaxed: progress for the controller's watchdog, every 1024 round trips.
      if ((seq & 1023) == 0) pair.progress.store(seq, std::memory_order_relaxed);
      return true;
    };
    for (std::uint64_t i = 0; i < warmup; ++i)
      if (!round_trip()) return;
    for (std::uint64_t left = timed; left > 0;) {
      const std::uint64_t n = std::min(left, batch);
      const std::int64_t t0 = now_ns();
      for (std::uint64_t i = 0; i < n; ++i)
        if (!round_trip()) return;
      const std::int64_t t1 = now_ns();
      per_rtt.record((t1 - t0) * 1000 / static_cast<std::int64_t>(n));
      left -= n;
    }
  };
  run_pair(p, send, answer);
  out.per_rtt_ps = *rtt;
}

struct RingRun {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint64_t consumed = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t sum = 0;
  bool extra = false;  // an item beyond the n pushed
};

void measure_ring(const CalibrateOptions& o, PairPlace& p, RingRun& result) {
  // Shared by the two threads and kept alive by them (see Pair).
  struct State {
    explicit State(std::size_t capacity)
        : ring(QueueOptions{.capacity = capacity, .producers = 1, .consumers = 1}) {}
    RingSpsc<Item> ring;
    Line producer_done;
    RingRun r;
  };
  auto st = std::make_shared<State>(o.ring_capacity);
  const std::uint64_t n = o.ring_items;
  const std::uint32_t spin_limit = p.spin_limit;

  auto consume = [st, n, spin_limit](Pair& pair) {
    RingRun& r = st->r;
    RingSpsc<Item>& ring = st->ring;
    const std::atomic<std::uint64_t>& producer_done = st->producer_done.value;
    Backoff backoff(spin_limit, pair.stop);
    std::uint64_t next = 0, sum = 0, out_of_order = 0;
    Item item;
    while (next < n) {
      if (!ring.try_pop(item)) {
        // acquire: pairs with the producer's release after its last push, so every push is
        // visible; if the ring is still empty after that, items were lost.
        if (producer_done.load(std::memory_order_acquire) == 0) {
          if (!backoff.wait()) return;
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
    while (producer_done.load(std::memory_order_acquire) == 0)
      if (!backoff.wait()) return;
    r.extra = ring.try_pop(item);
    r.consumed = next;
    r.sum = sum;
    r.out_of_order = out_of_order;
  };
  auto produce = [st, n, spin_limit](Pair& pair) {
    RingSpsc<Item>& ring = st->ring;
    Backoff backoff(spin_limit, pair.stop);
    st->r.start_ns = now_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
      const Item item{.id = i, .intended_ns = 0, .pushed_ns = 0};
      backoff.reset();
      while (!ring.try_push(item))
        if (!backoff.wait()) return;
      // relaxed: progress for the controller's watchdog, every 4096 items.
      if ((i & 4095) == 0) pair.progress.store(i + 1, std::memory_order_relaxed);
    }
    // release: publishes "no more pushes" after every push of this thread.
    st->producer_done.value.store(1, std::memory_order_release);
  };
  run_pair(p, produce, consume);
  result = st->r;
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

  PairPlace p = place(o);
  RoundTrips rt;
  measure_round_trips(o, p, rt);
  c.rtt_min_ns = ps_to_ns(rt.per_rtt_ps.min());
  c.rtt_p50_ns = ps_to_ns(rt.per_rtt_ps.percentile(50));
  c.rtt_p99_ns = ps_to_ns(rt.per_rtt_ps.percentile(99));
  c.rtt_max_ns = ps_to_ns(rt.per_rtt_ps.max());

  // The core-to-core matrix: every pair of allowed CPUs, as the core-to-core-latency tools do.
  const std::vector<unsigned> cpus = o.cpus.empty() ? allowed_cpus() : o.cpus;
  if (p.pinned && o.pair_round_trips > 0) {
    CalibrateOptions po = o;
    po.round_trips = o.pair_round_trips;
    po.warmup_round_trips = o.pair_round_trips / 10;
    for (std::size_t a = 0; a < cpus.size(); ++a) {
      for (std::size_t b = a + 1; b < cpus.size(); ++b) {
        PairPlace pp = p;
        pp.cpu_a = cpus[a];
        pp.cpu_b = cpus[b];
        RoundTrips prt;
        measure_round_trips(po, pp, prt);
        if (!pp.pinned) break;  // a pin was refused: the matrix would not be what it says
        c.pairs.push_back({cpus[a], cpus[b], ps_to_ns(prt.per_rtt_ps.percentile(50))});
      }
    }
  }

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
      ->capture_default_str()
      ->type_name("COUNT");
  calibrate
      .add_option("--ring-items", a.ring_items,
                  "items through the bare ring_spsc, producer and consumer pinned (1 to 10G)")
      ->capture_default_str()
      ->type_name("COUNT");
  calibrate
      .add_option("-o,--out", a.out,
                  "CSV file: created with a header and one row, or a row appended if it "
                  "has the same header; written through a temporary file and a rename")
      ->type_name("FILE");
  calibrate.add_flag("--overwrite", a.overwrite, "replace --out instead of appending");
  calibrate.footer(
      "Measures this machine's floor with no queue and no harness: the round trip of an atomic "
      "ping-pong between two CPUs (per round trip, the mean of batches of 16, so that the clock "
      "read is spread over the batch), the same round trip between every pair of allowed CPUs "
      "(the core-to-core matrix: min, median and max over pairs), the cost of one clock read, and "
      "the throughput of a bare ring_spsc with a check that every item arrived in order. About "
      "1-2 s with the defaults on a few CPUs.\n"
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
    o.round_trips = count_flag("--round-trips", a.round_trips, 1, 1'000'000'000, "1G (10^9)");
    o.ring_items = count_flag("--ring-items", a.ring_items, 1, 10'000'000'000, "10G (10^10)");
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

  select_clock(ClockChoice::automatic);
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
  if (!c.pairs.empty()) {
    out << "  core to core        p50 round trip over " << c.pairs.size()
        << (c.pairs.size() == 1 ? " pair" : " pairs") << " of CPUs: min " << ns_text(c.pair_rtt(0))
        << ", median " << ns_text(c.pair_rtt(0.5)) << ", max " << ns_text(c.pair_rtt(1)) << "\n";
    // The matrix itself, for a machine small enough to read it.
    std::vector<unsigned> cpus;
    for (const auto& pr : c.pairs) {
      if (std::find(cpus.begin(), cpus.end(), pr.cpu_a) == cpus.end()) cpus.push_back(pr.cpu_a);
      if (std::find(cpus.begin(), cpus.end(), pr.cpu_b) == cpus.end()) cpus.push_back(pr.cpu_b);
    }
    if (cpus.size() > 2 && cpus.size() <= 16) {
      char cell[16];
      out << "    ns   ";
      for (unsigned b : cpus) {
        std::snprintf(cell, sizeof cell, "%7u", b);
        out << cell;
      }
      out << "\n";
      for (unsigned a : cpus) {
        std::snprintf(cell, sizeof cell, "  %5u ", a);
        out << cell;
        for (unsigned b : cpus) {
          double v = 0;
          for (const auto& pr : c.pairs)
            if ((pr.cpu_a == a && pr.cpu_b == b) || (pr.cpu_a == b && pr.cpu_b == a))
              v = pr.rtt_p50_ns;
          if (v > 0) {
            std::snprintf(cell, sizeof cell, "%7.0f", v);
          } else {
            std::snprintf(cell, sizeof cell, "%7s", "-");
          }
          out << cell;
        }
        out << "\n";
      }
    }
  }
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
