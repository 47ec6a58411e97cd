#include "harness/bare_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "core/stats.hpp"
#include "core/units.hpp"
#include "harness/affinity.hpp"
#include "harness/clock.hpp"
#include "harness/topology.hpp"
#include "harness/usage.hpp"

namespace qb::cli {

namespace {

std::chrono::nanoseconds duration_in(const std::string& flag, const std::string& s) {
  const auto d = units::parse_duration(s);
  if (!d || d->count() < 1'000'000 || d->count() > 3'600'000'000'000)
    bad(flag, s, "a duration from 1ms to 1h, such as 500ms or 2s");
  return *d;
}

struct Plan {
  BareConfig cfg;
  int reps = 5;
  std::vector<const QueueEntry*> queues;
  std::vector<std::size_t> item_bytes;  // one table each
};

Plan parse(const Registry& reg, const BareArgs& a) {
  Plan p;
  for (const std::string& name : units::split_list(a.queues)) {
    bool found = false;
    for (const auto& e : reg.entries())
      if (name == "all" || e.name == name) {
        found = true;
        if (std::find(p.queues.begin(), p.queues.end(), &e) == p.queues.end())
          p.queues.push_back(&e);
      }
    if (!found)
      throw UsageError("-q,--queue: unknown queue '" + name + "'; did you mean '" +
                       reg.nearest(name) + "'? (qbench list shows all " +
                       std::to_string(reg.entries().size()) + ")");
  }
  if (p.queues.empty()) bad("-q,--queue", a.queues, "queue names from qbench list, or all");
  if (a.workload == "flood") {
    p.cfg.workload = WorkloadKind::flood;
  } else if (a.workload == "pingpong") {
    p.cfg.workload = WorkloadKind::pingpong;
  } else {
    bad("-w,--workload", a.workload, "flood or pingpong");
  }
  p.cfg.producers = count_flag("-p,--producers", a.producers, 1, 1024);
  p.cfg.consumers = count_flag("-c,--consumers", a.consumers, 1, 1024);
  if (p.cfg.workload == WorkloadKind::pingpong && (p.cfg.producers != 1 || p.cfg.consumers != 1))
    bad("-p,--producers", a.producers + "x" + a.consumers,
        "1 x 1 with -w pingpong (one thread sends, one answers)");
  p.cfg.capacity = count_flag("--capacity", a.capacity, 2, std::uint64_t{1} << 32);
  p.cfg.duration = duration_in("-d,--duration", a.duration);
  p.cfg.round_trips = count_flag("--round-trips", a.round_trips, 16, 1'000'000'000);
  p.cfg.stall_timeout = duration_in("--stall-timeout", a.stall_timeout);
  p.reps = static_cast<int>(count_flag("--reps", a.reps, 1, 1000));
  const auto bad_sizes = [&] {
    bad("--item-bytes", a.item_bytes, "a comma-separated list of " + item_sizes_text());
  };
  for (const std::string& b : units::split_list(a.item_bytes)) {
    const auto bytes = units::parse_count(b);
    const std::size_t n = bytes ? item_size_index(*bytes) : item_sizes.size();
    if (n == item_sizes.size()) bad_sizes();
    if (std::find(p.item_bytes.begin(), p.item_bytes.end(), item_sizes[n]) == p.item_bytes.end())
      p.item_bytes.push_back(item_sizes[n]);
  }
  if (p.item_bytes.empty()) bad_sizes();
  p.cfg.pin = a.pin;
  const auto placement = from_string<Placement>(a.placement);
  if (!placement) bad("--placement", a.placement, accepted_names<Placement>());
  p.cfg.placement = *placement;
  if (*placement != Placement::spread) {
    p.cfg.pin = true;
    try {
      plan_placement(p.cfg.producers, p.cfg.consumers, machine_topology(), *placement);
    } catch (const PlacementError& e) {
      throw UsageError(std::string("--placement: ") + e.what());
    }
  }
  return p;
}

std::string figure(WorkloadKind w, double v) {
  return w == WorkloadKind::pingpong ? units::format_ns(v) : units::format_rate(v) + "/s";
}

// One queue's references: `reps` of them, the median and range of the figure.
struct Summary {
  std::vector<double> figures;
  std::vector<double> depths;  // flood: each repetition's median depth
  BareResult last;
  bool failed = false;
};

}  // namespace

void add_bare_options(CLI::App& bare, BareArgs& a) {
  bare.add_option("-q,--queue", a.queues, "queues from qbench list (comma-separated), or all")
      ->capture_default_str()
      ->type_name("LIST");
  bare.add_option("-w,--workload", a.workload, "flood or pingpong")
      ->capture_default_str()
      ->type_name("NAME");
  bare.add_option("-p,--producers", a.producers, "flood: producer threads (1 to 1024)")
      ->capture_default_str()
      ->type_name("COUNT");
  bare.add_option("-c,--consumers", a.consumers, "flood: consumer threads (1 to 1024)")
      ->capture_default_str()
      ->type_name("COUNT");
  bare.add_option("--capacity", a.capacity, "queue capacity in items (2 to 2^32)")
      ->capture_default_str()
      ->type_name("COUNT");
  bare.add_option("-d,--duration", a.duration, "flood: how long the producers push (1ms to 1h)")
      ->capture_default_str()
      ->type_name("DURATION");
  bare.add_option("--round-trips", a.round_trips, "pingpong: timed round trips (16 to 1G)")
      ->capture_default_str()
      ->type_name("COUNT");
  bare.add_option("--reps", a.reps, "repetitions per queue (1 to 1000): median and range")
      ->capture_default_str()
      ->type_name("COUNT");
  bare.add_option("--stall-timeout", a.stall_timeout,
                  "no progress for this long ends a reference as stalled (1ms to 1h)")
      ->capture_default_str()
      ->type_name("DURATION");
  bare.add_option("--item-bytes", a.item_bytes,
                  "bytes each push carries, a list of " + item_sizes_text() +
                      " (a task pointer is 8; qbench run pushes 24 unless its --item-bytes says): "
                      "one table each")
      ->capture_default_str()
      ->type_name("LIST");
  bare.add_flag("--pin", a.pin, "pin the threads to CPUs (producers and consumers interleaved)");
  bare.add_option("--placement", a.placement,
                  "where pinned threads go: spread, same-core, same-socket or cross-socket "
                  "(implies --pin)")
      ->capture_default_str()
      ->type_name("NAME");
  bare.footer(
      "Drives each queue the way its authors' own benchmarks do: a queue with a wait strategy "
      "(NAME+spin, NAME+park ...) through its base's try_push/try_pop from spinning threads, "
      "every other queue through its own blocking push/pop; no clock, counter or gate per item. "
      "Counts and sums are verified at the end. Queues sharing a base are measured once. "
      "A flood's depth is the median of the items pushed and not yet popped (within " +
      std::to_string(bare_publish_every) +
      " per thread): near the capacity, the ring ran full; near 0, empty.\n"
      "Exit codes: 0 every reference verified, 1 one failed its check or stalled, 2 bad input.");
}

BareConfig bare_config_for(const RunConfig& c) {
  BareConfig b;
  b.workload = c.workload;
  b.producers = c.producers;
  b.consumers = c.consumers;
  b.capacity = c.capacity;
  // As long as the run, within 0.2 to 1 s (a run of --items: 0.5 s).
  b.duration = c.items ? std::chrono::milliseconds(500)
                       : std::clamp<std::chrono::nanoseconds>(
                             c.duration, std::chrono::milliseconds(200), std::chrono::seconds(1));
  b.round_trips = 100'000;
  b.pin = c.pin;
  b.placement = c.placement;
  b.stall_timeout = c.stall_timeout;
  b.item_bytes = c.item_bytes;
  return b;
}

bool attach_bare_reference(const QueueEntry& q, RunResult& r, std::string& why) {
  const RunConfig& c = r.config;
  const bool flood = c.workload == WorkloadKind::flood;
  if (!flood && c.workload != WorkloadKind::pingpong) return true;
  const BareResult br = q.bare(bare_config_for(c));
  if (br.verdict != Verdict::ok) {
    why = "bare reference of " + std::string(q.name) + " (" + run_name(c, q.bare_of) +
          "): " + std::string(to_string(br.verdict)) + ": " + br.detail;
    return false;
  }
  (flood ? r.bare_items_per_s : r.bare_rtt_p50_ns) = flood ? br.items_per_s : br.rtt_p50_ns;
  if (flood) r.bare_median_depth = br.median_depth;
  return true;
}

// One table: each queue's references carrying cfg.item_bytes; true when one failed.
static bool bare_table(const Plan& p, const BareConfig& cfg, std::ostream& out,
                       std::string& pinning) {
  const bool flood = cfg.workload == WorkloadKind::flood;
  out << (flood ? "queue                      items/s median   min .. max             depth   "
                  "driven\n"
                : "queue                      round trip p50   min .. max             driven\n");

  std::map<std::string_view, Summary> done;  // by the queue the reference drives
  bool failed = false;
  for (const QueueEntry* e : p.queues) {
    char name[64];
    std::snprintf(name, sizeof name, "%-26s ", std::string(e->name).c_str());
    if (!e->carries(cfg.item_bytes)) {
      out << name << "skipped: " << only_item_sized() << "\n";
      continue;
    }
    if (flood ? !e->traits.serves(cfg.producers, cfg.consumers) : !e->traits.serves(1, 1)) {
      out << name << "skipped: serves at most " << e->traits.max_producers << "x"
          << e->traits.max_consumers << "\n";
      continue;
    }
    auto [it, fresh] = done.try_emplace(e->bare_of);
    Summary& s = it->second;
    if (fresh) {
      for (int rep = 0; rep < p.reps && !s.failed; ++rep) {
        s.last = e->bare(cfg);
        s.failed = s.last.verdict != Verdict::ok;
        s.figures.push_back(flood ? s.last.items_per_s : s.last.rtt_p50_ns);
        s.depths.push_back(static_cast<double>(s.last.median_depth));
      }
    }
    if (s.failed) {
      failed = true;
      out << name << to_string(s.last.verdict) << ": " << s.last.detail << "\n";
      continue;
    }
    const auto [lo, hi] = std::minmax_element(s.figures.begin(), s.figures.end());
    char line[160];
    std::snprintf(line, sizeof line, "%-16s %-22s ",
                  figure(cfg.workload, median(s.figures)).c_str(),
                  (figure(cfg.workload, *lo) + " .. " + figure(cfg.workload, *hi)).c_str());
    out << name << line;
    // The median over the repetitions of each one's median depth: the regime (full or empty).
    if (flood) {
      std::snprintf(line, sizeof line, "%-7llu ",
                    static_cast<unsigned long long>(median(s.depths)));
      out << line;
    }
    out << s.last.driven << (fresh ? "" : " (measured above)") << "\n";
  }
  if (!done.empty() && cfg.pin) pinning = done.begin()->second.last.pinning;
  return failed;
}

int bare_command(const Registry& reg, const BareArgs& a, std::ostream& out, std::ostream& err) {
  Plan p;
  try {
    p = parse(reg, a);
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
    return 2;
  }
  const BareConfig& cfg = p.cfg;
  const bool flood = cfg.workload == WorkloadKind::flood;
  const std::string clock = select_clock(ClockChoice::automatic);
  const std::size_t threads = flood ? cfg.producers + cfg.consumers : 2;
  out << "bare " << (flood ? "flood " : "pingpong ") << cfg.producers << "x" << cfg.consumers
      << ", capacity " << cfg.capacity << ", " << p.reps << " reps of "
      << (flood ? units::format_ns(static_cast<double>(cfg.duration.count()))
                : std::to_string(cfg.round_trips) + " round trips")
      << (cfg.pin ? ", pinned" : ", unpinned") << "\n";
  if (!flood) out << "clock: " << clock << "\n";
  if (threads > online_cores())
    out << "note: " << threads << " threads on " << online_cores()
        << " cores: oversubscribed (spinning threads yield after " << spin_limit_shared
        << " pauses)\n";
  bool failed = false;
  std::string pinning;
  for (const std::size_t bytes : p.item_bytes) {
    BareConfig c = cfg;
    c.item_bytes = bytes;
    out << "items of " << bytes << " bytes:\n";
    failed |= bare_table(p, c, out, pinning);
  }
  if (!pinning.empty()) out << "pinning: " << pinning << " (" << to_string(cfg.placement) << ")\n";
  return failed ? 1 : 0;
}

}  // namespace qb::cli
