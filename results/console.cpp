#include "results/console.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/stats.hpp"
#include "core/units.hpp"
#include "results/columns.hpp"

namespace qb {
namespace {

std::string pad(std::string s, std::size_t w, bool right = true) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

void ConsoleReporter::report_context(const RunContext& ctx) {
  out_ << "qbench " << ctx.qbench_version << " (" << ctx.git_sha << ", " << ctx.build_type
       << (ctx.sanitizer.empty() ? "" : ", SANITIZER BUILD " + ctx.sanitizer + ": not results")
       << ")\n"
       << "host " << ctx.host << ": " << ctx.cpu_model << ", " << ctx.cores << " cores, "
       << units::format_bytes(static_cast<double>(ctx.memory_bytes)) << ", " << ctx.kernel << "\n"
       << "clock " << ctx.clock << ", " << units::format_ns(ctx.clock_cost_ns) << " per read\n";
  if (ctx.calibrated) {
    out_ << "floor (qbench calibrate): atomic round trip p50 "
         << units::format_ns(ctx.floor_rtt_p50_ns) << ", p99 "
         << units::format_ns(ctx.floor_rtt_p99_ns) << "; bare ring_spsc "
         << units::format_rate(ctx.bare_ring_items_per_s) << " items/s\n";
  }
  out_ << "\n";
}

void ConsoleReporter::header() {
  // Headings for people: the columns that hold a CSV column's value are named after it; `cores`
  // is cpu_cores_busy, `depth` peak_depth and `refused` rejected + dropped.
  out_ << pad(std::string(col::queue.name), 28, false)
       << pad(std::string(col::workload.name), 10, false) << pad("PxC", 6)
       << pad(std::string(col::rep.name), 4) << pad("thrpt/s", 9) << pad("p50", 9) << pad("p99", 9)
       << pad("p99.9", 9) << pad("max", 9) << pad("cpu/item", 9) << pad("cores", 6)
       << pad("depth", 8) << pad("peakRSS", 9) << pad("refused", 9) << "  verdict\n";
  header_done_ = true;
}

void ConsoleReporter::report_run(const RunResult& r, std::string_view) {
  if (!header_done_) header();
  ++runs_;
  const RunConfig& c = r.config;
  const bool any = r.latency.count() > 0;
  auto lat = [&](double p) {
    return any ? units::format_ns(static_cast<double>(r.latency.percentile(p))) : std::string("-");
  };
  std::string shape = std::to_string(c.producers) + "x" + std::to_string(c.consumers);
  if (r.oversubscribed) {
    shape += "*";
    any_oversubscribed_ = true;
  }
  const double cores = r.cores_busy();
  char cores_s[16];
  std::snprintf(cores_s, sizeof cores_s, "%.2f", cores);
  if (!r.pinning.empty()) pinning_ = r.pinning;
  const std::string workload =
      std::string(to_string(c.workload)) + (c.record_latency ? "" : "/off");
  const std::string config = c.queue + " " + std::string(to_string(c.workload)) + " " +
                             std::to_string(c.producers) + "x" + std::to_string(c.consumers) +
                             " capacity " + std::to_string(c.capacity);
  if (c.workload == WorkloadKind::flood || c.workload == WorkloadKind::tree) {
    if (r.ok() && c.rep >= 0)
      cost_samples_.push_back(CostSample{config, c.record_latency, r.throughput()});
  }
  if (const auto f = r.fidelity(); f && r.ok() && c.rep >= 0)
    fidelity_samples_.emplace_back(config + (c.record_latency ? ", latency on" : ", latency off"),
                                   *f);
  out_ << pad(c.queue, 28, false) << pad(workload, 10, false) << pad(shape, 6)
       << pad(c.rep < 0 ? "w" : std::to_string(c.rep), 4)
       << pad(units::format_rate(r.throughput()), 9) << pad(lat(50), 9) << pad(lat(99), 9)
       << pad(lat(99.9), 9)
       << pad(any ? units::format_ns(static_cast<double>(r.latency.max())) : "-", 9)
       << pad(r.consumed ? units::format_ns(r.cpu_ns_per_item()) : "-", 9) << pad(cores_s, 6)
       << pad(std::to_string(r.peak_depth), 8)
       << pad(r.peak_rss ? units::format_bytes(static_cast<double>(*r.peak_rss)) : "-", 9)
       << pad(std::to_string(r.rejected + r.dropped), 9) << "  " << to_string(r.verdict);
  if (const auto f = r.fidelity()) {
    char fs[16];
    std::snprintf(fs, sizeof fs, "%.2f", *f);
    out_ << "  fidelity " << fs << " of bare "
         << (r.bare_items_per_s ? units::format_rate(*r.bare_items_per_s) + "/s"
                                : units::format_ns(*r.bare_rtt_p50_ns));
  }
  out_ << "\n";
  if (!r.ok()) {
    ++not_ok_;
    out_ << "    " << to_string(r.verdict) << ": " << r.detail << "\n";
  }
}

void ConsoleReporter::finalize() {
  // The harness's own cost: the same configuration with latency recording on and off.
  std::vector<std::string> keys;
  for (const auto& s : cost_samples_)
    if (std::find(keys.begin(), keys.end(), s.key) == keys.end()) keys.push_back(s.key);
  bool cost_header = false;
  for (const auto& key : keys) {
    std::vector<double> on, off;
    for (const auto& s : cost_samples_)
      if (s.key == key) (s.record ? on : off).push_back(s.throughput);
    if (on.empty() || off.empty()) continue;
    if (!cost_header) {
      out_ << "\nharness cost (medians; latency recording = two clock reads and three histogram "
              "records per item):\n";
      cost_header = true;
    }
    const double m_on = median(on), m_off = median(off);
    char line[64];
    std::snprintf(line, sizeof line, "%.1f%%", m_off > 0 ? (1 - m_on / m_off) * 100 : 0.0);
    out_ << "  " << key << ": on " << units::format_rate(m_on) << "/s (" << on.size()
         << " runs), off " << units::format_rate(m_off) << "/s (" << off.size()
         << " runs): recording costs " << line << " of throughput\n";
  }
  // Fidelity: each repetition against the bare run made right after it (this machine's speed
  // drifts between minutes, so a reference taken once would compare different machines).
  std::vector<std::string> fkeys;
  for (const auto& [key, f] : fidelity_samples_)
    if (std::find(fkeys.begin(), fkeys.end(), key) == fkeys.end()) fkeys.push_back(key);
  if (!fkeys.empty()) {
    out_ << "\nfidelity (--calibrate; each repetition over the bare reference run right after it; "
            "median and range; 1 = the harness costs nothing):\n";
  }
  for (const auto& key : fkeys) {
    std::vector<double> fs;
    for (const auto& [k, f] : fidelity_samples_)
      if (k == key) fs.push_back(f);
    char line[96];
    std::snprintf(line, sizeof line, "%.2f (%.2f .. %.2f, %zu runs)", median(fs),
                  *std::min_element(fs.begin(), fs.end()), *std::max_element(fs.begin(), fs.end()),
                  fs.size());
    out_ << "  " << key << ": " << line << "\n";
  }
  if (!pinning_.empty()) {
    out_ << "\nthreads pinned (--pin): " << pinning_
         << " in the last pinned run (each run's plan is in the CSV's pinning column)\n";
  }
  if (any_oversubscribed_) {
    out_ << "\n* oversubscribed: more producer + consumer threads than cores; spinning queues "
            "suffer most there\n";
  }
  if (not_ok_) {
    out_ << "\n" << not_ok_ << " of " << runs_ << " runs did not pass (see verdicts above)\n";
  }
}

}  // namespace qb
