#include "results/console.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>

#include "core/item.hpp"
#include "core/stats.hpp"
#include "core/units.hpp"
#include "results/columns.hpp"
#include "results/compare.hpp"
#include "results/ranking.hpp"

namespace qb {
namespace {

std::string pad(std::string s, std::size_t w, bool right = true) {
  if (s.size() >= w) return right ? " " + s : s + " ";  // too wide: still apart from its neighbour
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

std::string fixed(double v, int decimals) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

using Rep = ConsoleReporter::Rep;
using Configuration = ConsoleReporter::Configuration;

// The values of one figure over the repetitions that passed.
template <class F>
std::vector<double> of_ok(const Configuration& c, F&& f) {
  std::vector<double> v;
  for (const Rep& r : c.reps)
    if (r.ok) v.push_back(f(r));
  return v;
}

// "1.23M [1.20-1.25M]": the median and, with two or more values, the range. The range shares the
// median's unit suffix when both ends have it.
std::string median_range(const std::vector<double>& v, std::string (*format)(double)) {
  if (v.empty()) return "-";
  const std::string m = format(median(v));
  if (v.size() < 2) return m;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  std::string a = format(*lo), b = format(*hi);
  // Common trailing letters (the unit): written once.
  std::size_t unit = 0;
  while (unit < a.size() && unit < b.size() && std::isalpha(a[a.size() - 1 - unit]) &&
         a[a.size() - 1 - unit] == b[b.size() - 1 - unit])
    ++unit;
  if (unit && (unit == a.size() || !std::isalpha(a[a.size() - 1 - unit])))
    a.resize(a.size() - unit);
  return m + " [" + a + "-" + b + "]";
}

std::string rate_text(double v) {
  return units::format_rate(v);
}
std::string ns_text(double v) {
  return units::format_ns(v);
}
std::string bytes_text(double v) {
  return units::format_bytes(v);
}

struct Ratio {
  double median = 0;
  bool bounded = false;
  double low = 0, high = 0;
};
// `x` over `base`: the ratio of the medians, and the distribution-free 95% interval of the ratio
// (the Hodges-Lehmann interval of the shift between the logarithms, results/compare.hpp). Too few
// repetitions give no interval.
Ratio ratio(const std::vector<double>& x, const std::vector<double>& base) {
  Ratio r;
  const double mb = median(base);
  if (x.empty() || base.empty() || mb <= 0) return r;
  r.median = median(x) / mb;
  std::vector<double> lx, lb;
  for (double v : x)
    if (v > 0) lx.push_back(std::log(v));
  for (double v : base)
    if (v > 0) lb.push_back(std::log(v));
  if (lx.size() != x.size() || lb.size() != base.size()) return r;
  const ShiftInterval ci = shift_interval(lb, lx, 0.05);
  if (ci.bounded) {
    r.bounded = true;
    r.low = std::exp(ci.low);
    r.high = std::exp(ci.high);
  }
  return r;
}

std::string ratio_text(const Ratio& r) {
  std::string s = fixed(r.median, 2) + "x";
  if (r.bounded) s += " (" + fixed(r.low, 2) + "-" + fixed(r.high, 2) + "x)";
  return s;
}

std::size_t ok_count(const Configuration& c) {
  return static_cast<std::size_t>(
      std::count_if(c.reps.begin(), c.reps.end(), [](const Rep& r) { return r.ok; }));
}
std::size_t behind_count(const Configuration& c) {
  return static_cast<std::size_t>(std::count_if(
      c.reps.begin(), c.reps.end(), [](const Rep& r) { return r.ok && r.paced && !r.kept_up; }));
}

}  // namespace

void ConsoleReporter::plan(std::vector<Varying> varying, std::size_t queue_width,
                           bool interleaved) {
  varying_ = std::move(varying);
  interleaved_ = interleaved;
  queue_width_ = std::max<std::size_t>(queue_width + 2, 8);
}

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
  context_ = ctx;
}

void ConsoleReporter::header() {
  // Headings for people: `cores` is cpu_cores_busy, `depth` peak_depth, `memory` the peak RSS
  // over the run's baseline, `refused` rejected + dropped, `kept up` achieved vs offered load.
  out_ << "one line per configuration: the median of its repetitions [min-max]\n";
  out_ << pad(std::string(col::queue.name), queue_width_, false)
       << pad(std::string(col::workload.name), 9, false) << pad("PxC", 6, false);
  for (const Varying& v : varying_)
    out_ << pad(v.header, std::max<std::size_t>(v.header.size(), 10) + 1, false);
  out_ << pad("reps", 4) << "  " << pad("thrpt/s", 20, false) << pad("p50", 9) << "  "
       << pad("p99", 22, false) << pad("p99.9", 9) << pad("max", 9) << pad("cpu/item", 9)
       << pad("cores", 6) << pad("depth", 8) << pad("memory", 9) << pad("refused", 8) << "  "
       << pad("kept up", 12, false) << col::verdict.name << "\n";
  header_done_ = true;
}

void ConsoleReporter::report_run(const RunResult& r, std::string_view) {
  ++runs_;
  const RunConfig& c = r.config;
  // The configuration: every key column's value (the repetition is an identity, not a key).
  RowSource src{.context = &context_, .run = &r, .run_id = {}};
  std::string key, question;
  for (const Column& col : results_table().columns) {
    if (col.role != Role::key) continue;
    const std::string v = std::string(col.name) + "=" + col.get(src) + ";";
    key += v;
    if (col.name != col::queue.name) question += v;
  }
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Configuration& g) { return g.key == key; });
  if (it == pending_.end()) {
    if (!interleaved_) flush();
    Configuration g;
    g.config = c;
    g.key = key;
    g.question = question;
    g.description = std::string(to_string(c.workload)) + " " + shape_of(c);
    for (const Varying& v : varying_) {
      g.varying.push_back(v.value(c));
      g.description += " " + v.header + " " + g.varying.back();
    }
    pending_.push_back(std::move(g));
    it = std::prev(pending_.end());
  }
  Configuration& current = *it;
  if (r.oversubscribed) current.oversubscribed = any_oversubscribed_ = true;
  if (!r.pinning.empty()) pinning_ = r.pinning;
  if (!r.ok()) {
    ++not_ok_;
    current.failures.push_back(
        (c.rep < 0 ? std::string("warm-up") : "rep " + std::to_string(c.rep)) + ": " +
        std::string(to_string(r.verdict)) + ": " + r.detail);
  }
  if (c.rep < 0) return;  // a failed warm-up: listed, not counted

  Rep rep;
  rep.ok = r.ok();
  rep.throughput = r.throughput();
  rep.latency = r.latency.count() > 0;
  if (rep.latency) {
    rep.p50 = static_cast<double>(r.latency.percentile(50));
    rep.p99 = static_cast<double>(r.latency.percentile(99));
    rep.p999 = static_cast<double>(r.latency.percentile(99.9));
    rep.max = static_cast<double>(r.latency.max());
  }
  rep.cpu_per_item = r.cpu_ns_per_item();
  rep.cores = r.cores_busy();
  rep.depth = static_cast<double>(r.peak_depth);
  rep.depth_uncertain = r.peak_depth_uncertain();
  if (const auto g = r.peak_rss_growth()) {
    rep.rss_known = true;
    rep.rss_growth = static_cast<double>(*g);
  }
  rep.refused = static_cast<double>(r.rejected + r.dropped);
  if (const auto k = r.kept_up()) {
    rep.paced = true;
    rep.kept_up = *k;
    rep.offered_per_s = r.offered_per_s().value_or(0);
  }
  current.reps.push_back(rep);

  // The harness-cost and fidelity lines compare like with like: one line per item size too.
  std::string config = run_name(c) + " capacity " + std::to_string(c.capacity);
  if (c.item_bytes != sizeof(Item)) config += " item-bytes " + std::to_string(c.item_bytes);
  if (c.workload == WorkloadKind::flood || c.workload == WorkloadKind::tree) {
    if (r.ok()) cost_samples_.push_back(CostSample{config, c.record_latency, r.throughput()});
  }
  if (const auto f = r.fidelity(); f && r.ok()) {
    FidelitySample s{config + (c.record_latency ? ", latency on" : ", latency off"), *f, {}, {}};
    if (r.bare_median_depth) {
      s.depth = r.median_depth;
      s.bare_depth = r.bare_median_depth;
    }
    fidelity_samples_.push_back(std::move(s));
  }
}

void ConsoleReporter::flush() {
  for (Configuration& g : pending_)
    write_line(g);
  pending_.clear();
}

void ConsoleReporter::write_line(Configuration& g) {
  if (!header_done_) header();
  const RunConfig& c = g.config;
  const auto thr = of_ok(g, [](const Rep& r) { return r.throughput; });
  const auto lat = [&](double Rep::*m) {
    std::vector<double> v;
    for (const Rep& r : g.reps)
      if (r.ok && r.latency) v.push_back(r.*m);
    return v;
  };
  const auto p50 = lat(&Rep::p50), p99 = lat(&Rep::p99), p999 = lat(&Rep::p999),
             mx = lat(&Rep::max);
  // Noise: the spread of the figure the question ranks by, and of p99.
  if (thr.size() >= 2 && ranking_of(c.workload).primary == Primary::throughput) {
    const auto [lo, hi] = std::minmax_element(thr.begin(), thr.end());
    if (median(thr) > 0 && (*hi - *lo) / median(thr) > noisy_throughput_range) g.noisy = true;
  }
  if (p99.size() >= 2) {
    const auto [lo, hi] = std::minmax_element(p99.begin(), p99.end());
    if (*lo > 0 && *hi / *lo > noisy_p99_ratio) g.noisy = true;
  }

  const std::string shape = shape_of(c) + (g.oversubscribed ? "*" : "");
  out_ << pad(c.queue, queue_width_, false) << pad(std::string(to_string(c.workload)), 9, false)
       << pad(shape, 6, false);
  for (std::size_t i = 0; i < varying_.size(); ++i)
    out_ << pad(g.varying[i], std::max<std::size_t>(varying_[i].header.size(), 10) + 1, false);
  out_ << pad(std::to_string(g.reps.size()), 4) << "  "
       << pad(median_range(thr, rate_text), 20, false)
       << pad(p50.empty() ? "-" : ns_text(median(p50)), 9) << "  "
       << pad(median_range(p99, ns_text), 22, false)
       << pad(p999.empty() ? "-" : ns_text(median(p999)), 9)
       << pad(mx.empty() ? "-" : ns_text(*std::max_element(mx.begin(), mx.end())), 9);
  const auto cpu = of_ok(g, [](const Rep& r) { return r.cpu_per_item; });
  const auto cores = of_ok(g, [](const Rep& r) { return r.cores; });
  const auto depth = of_ok(g, [](const Rep& r) { return r.depth; });
  const bool depth_uncertain = std::any_of(g.reps.begin(), g.reps.end(),
                                           [](const Rep& r) { return r.ok && r.depth_uncertain; });
  std::vector<double> memory;
  for (const Rep& r : g.reps)
    if (r.ok && r.rss_known) memory.push_back(r.rss_growth);
  const auto refused = of_ok(g, [](const Rep& r) { return r.refused; });
  out_ << pad(cpu.empty() || median(cpu) == 0 ? "-" : ns_text(median(cpu)), 9)
       << pad(cores.empty() ? "-" : fixed(median(cores), 2), 6)
       << pad(depth.empty()     ? "-"
              : depth_uncertain ? "?"
                                : std::to_string(static_cast<std::uint64_t>(
                                      *std::max_element(depth.begin(), depth.end()))),
              8)
       << pad(memory.empty() ? "-" : bytes_text(median(memory)), 9)
       << pad(refused.empty() ? "-" : std::to_string(static_cast<std::uint64_t>(median(refused))),
              8);
  // Kept up: every passing repetition of a paced run; else how many fell behind, and the share
  // of the offered rate they achieved (median).
  std::string kept = "-";
  const std::size_t ok = ok_count(g), behind = behind_count(g);
  if (ok && g.reps.front().paced) {
    if (!behind) {
      kept = "yes";
    } else {
      std::vector<double> share;
      for (const Rep& r : g.reps)
        if (r.ok && r.paced && !r.kept_up && r.offered_per_s > 0)
          share.push_back(r.throughput / r.offered_per_s);
      // A share that rounds to 100% fell behind by refusing a few items: say so, not "100%".
      const double pct = share.empty() ? 0 : median(share) * 100;
      kept = "BEHIND" + (share.empty() ? std::string()
                         : pct >= 99.5 ? std::string(" >99%")
                                       : " " + fixed(pct, 0) + "%");
      if (behind < ok) kept += " " + std::to_string(behind) + "/" + std::to_string(ok);
    }
  }
  std::string verdict = ok == g.reps.size() ? std::string("ok")
                                            : std::to_string(g.reps.size() - ok) + "/" +
                                                  std::to_string(g.reps.size()) + " FAILED";
  if (g.reps.empty()) verdict = "warm-up FAILED";
  out_ << "  " << pad(kept, 12, false) << verdict << (g.noisy ? "  noisy" : "") << "\n";
  for (const std::string& f : g.failures)
    out_ << "    " << f << "\n";
  done_.push_back(std::move(g));
}

void ConsoleReporter::summary() {
  // Questions in order of first appearance; a question with two or more queues gets lines.
  std::vector<std::string> questions;
  for (const Configuration& g : done_)
    if (std::find(questions.begin(), questions.end(), g.question) == questions.end())
      questions.push_back(g.question);
  bool header = false;
  for (const std::string& q : questions) {
    std::vector<const Configuration*> cs;
    for (const Configuration& g : done_)
      if (g.question == q && ok_count(g) > 0) cs.push_back(&g);
    if (cs.size() < 2) continue;
    if (!header) {
      out_ << "\nsummary per question (ratios of medians to the first queue's, with the 95% "
              "interval from the repetitions; no interval with fewer than 4 a side):\n";
      header = true;
    }
    const Configuration& base = *cs.front();
    const Ranking ranking = ranking_of(base.config.workload);
    const Primary primary = ranking.primary;
    const auto figure = [&](const Configuration& g, Primary p) {
      return p == Primary::throughput ? of_ok(g, [](const Rep& r) { return r.throughput; })
             : p == Primary::p99      ? of_ok(g, [](const Rep& r) { return r.p99; })
                                      : of_ok(g, [](const Rep& r) { return r.p50; });
    };
    const bool higher = ranking.column->better == Better::higher;
    const std::string_view name = ranking.title;
    // The queues that passed every repetition and kept up in most, best first (ties keep the
    // matrix order).
    std::vector<std::pair<const Configuration*, double>> ranked;
    for (const Configuration* g : cs)
      if (ok_count(*g) == g->reps.size() && 2 * behind_count(*g) <= ok_count(*g))
        ranked.emplace_back(g, median(figure(*g, primary)));
    std::stable_sort(ranked.begin(), ranked.end(), [higher](const auto& a, const auto& b) {
      return higher ? a.second > b.second : a.second < b.second;
    });
    const Configuration* best = ranked.empty() ? nullptr : ranked[0].first;
    out_ << "  " << base.description << " (" << base.reps.size() << " repetitions each):\n";
    if (best) {
      const auto fmt = higher ? rate_text : ns_text;
      out_ << "    best " << name << ": " << best->config.queue << " "
           << median_range(figure(*best, primary), fmt) << (higher ? "/s" : "");
      // The runner-up, and whether the repetitions tell them apart.
      const Configuration* second = ranked.size() > 1 ? ranked[1].first : nullptr;
      if (second) {
        // The runner-up's figure over the best's: "next b: throughput 0.50x the best's".
        const Ratio r = ratio(figure(*second, primary), figure(*best, primary));
        const std::string versus = std::string(name) + " " + ratio_text(r) + " the best's";
        if (!r.bounded) {
          out_ << "; next " << second->config.queue << ": " << versus
               << " (too few repetitions to tell them apart)";
        } else if (r.low <= 1 && r.high >= 1) {
          out_ << "; not distinguishable from " << second->config.queue << " (" << versus << ")";
        } else {
          out_ << "; next " << second->config.queue << ": " << versus;
        }
      }
      out_ << "\n";
    } else {
      out_ << "    best " << name << ": none (every queue failed, refused items or fell behind)\n";
    }
    for (const Configuration* g : cs) {
      if (g == &base) continue;
      out_ << "    " << g->config.queue << ": ";
      if (primary == Primary::throughput) {
        out_ << ratio_text(
                    ratio(figure(*g, Primary::throughput), figure(base, Primary::throughput)))
             << " the throughput";
        if (!figure(*g, Primary::p99).empty() && base.reps.front().latency &&
            g->reps.front().latency)
          out_ << ", p99 "
               << ratio_text(ratio(figure(*g, Primary::p99), figure(base, Primary::p99)));
      } else {
        out_ << "p99 " << ratio_text(ratio(figure(*g, Primary::p99), figure(base, Primary::p99)))
             << ", p50 " << ratio_text(ratio(figure(*g, Primary::p50), figure(base, Primary::p50)));
      }
      const auto cpu = [](const Configuration& c) {
        return of_ok(c, [](const Rep& r) { return r.cpu_per_item; });
      };
      if (median(cpu(base)) > 0 && median(cpu(*g)) > 0)
        out_ << ", cpu/item " << ratio_text(ratio(cpu(*g), cpu(base)));
      out_ << " of " << base.config.queue << "'s";
      if (behind_count(*g)) out_ << "; fell BEHIND the offered load";
      if (ok_count(*g) != g->reps.size())
        out_ << "; " << g->reps.size() - ok_count(*g) << " FAILED";
      if (g->noisy) out_ << "; noisy";
      out_ << "\n";
    }
    if (behind_count(base))
      out_ << "    " << base.config.queue << " fell BEHIND the offered load\n";
  }
}

void ConsoleReporter::finalize() {
  flush();
  summary();
  // Notes: what the reader must know before trusting the lines above.
  const auto behind = std::count_if(done_.begin(), done_.end(),
                                    [](const Configuration& g) { return behind_count(g) > 0; });
  if (behind) {
    out_ << "\n"
         << behind << " configuration(s) fell BEHIND the offered load (kept up: no item "
         << "refused and at least " << fixed(RunResult::kept_up_share * 100, 0)
         << "% of the offered rate consumed; the percentage is what was achieved): their "
            "latency is the backlog's, not the queue's\n";
  }
  const auto noisy =
      std::count_if(done_.begin(), done_.end(), [](const Configuration& g) { return g.noisy; });
  if (noisy) {
    out_ << "\n"
         << noisy << " of " << done_.size() << " configuration(s) are noisy: throughput "
         << "range over " << fixed(noisy_throughput_range * 100, 0) << "% of the median, or "
         << "p99 varying more than " << fixed(noisy_p99_ratio, 0) << "x between repetitions; "
         << "differences smaller than their range are noise here (more --reps, --pin, or a "
            "quieter machine)\n";
  }
  const bool single = !done_.empty() && std::all_of(done_.begin(), done_.end(), [](const auto& g) {
    return g.reps.size() < 2;
  });
  if (single) {
    out_ << "\none repetition per configuration: no spread and no intervals, so no difference "
            "above can be told from noise; --reps 5 or more for an answer to trust\n";
  }
  const bool uncertain_depth = std::any_of(done_.begin(), done_.end(), [](const auto& g) {
    return std::any_of(g.reps.begin(), g.reps.end(),
                       [](const Rep& r) { return r.ok && r.depth_uncertain; });
  });
  if (uncertain_depth) {
    out_ << "\ndepth ?: runs shorter than " << RunResult::min_depth_samples
         << " sampler ticks (--sample-interval) may have missed their peak depth\n";
  }

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
              "records per timed item):\n";
      cost_header = true;
    }
    const double m_on = median(on), m_off = median(off);
    out_ << "  " << key << ": on " << units::format_rate(m_on) << "/s (" << on.size()
         << " runs), off " << units::format_rate(m_off) << "/s (" << off.size()
         << " runs): recording costs " << fixed(m_off > 0 ? (1 - m_on / m_off) * 100 : 0.0, 1)
         << "% of throughput\n";
  }
  // Fidelity: each repetition against the bare run made right after it (this machine's speed
  // drifts between minutes, so a reference taken once would compare different machines).
  std::vector<std::string> fkeys;
  for (const FidelitySample& s : fidelity_samples_)
    if (std::find(fkeys.begin(), fkeys.end(), s.key) == fkeys.end()) fkeys.push_back(s.key);
  if (!fkeys.empty()) {
    out_ << "\nfidelity (--calibrate; each repetition over the bare reference run right after it; "
            "median and range; 1 = the harness costs nothing; flood: the median depth of the runs "
            "and of their references, the regime each ran in):\n";
  }
  for (const auto& key : fkeys) {
    std::vector<double> fs, depth, bare_depth;
    for (const FidelitySample& s : fidelity_samples_) {
      if (s.key != key) continue;
      fs.push_back(s.fidelity);
      if (s.depth) depth.push_back(static_cast<double>(*s.depth));
      if (s.bare_depth) bare_depth.push_back(static_cast<double>(*s.bare_depth));
    }
    out_ << "  " << key << ": " << fixed(median(fs), 2) << " ("
         << fixed(*std::min_element(fs.begin(), fs.end()), 2) << " .. "
         << fixed(*std::max_element(fs.begin(), fs.end()), 2) << ", " << fs.size() << " runs)";
    if (!depth.empty() && !bare_depth.empty()) {
      out_ << "; depth " << static_cast<std::uint64_t>(median(depth)) << " against bare "
           << static_cast<std::uint64_t>(median(bare_depth));
    }
    out_ << "\n";
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
    out_ << "\n"
         << not_ok_ << " of " << runs_ << " runs did not pass (listed under their "
         << "configurations above)\n";
  }
}

}  // namespace qb
