#include "results/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/units.hpp"
#include "results/csv.hpp"

namespace qb {

// ---- Statistics ---------------------------------------------------------------------------

double median_of(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {

// Beyond this size of the larger sample the exact distribution costs O(m^2 n^2 / 4) for little
// gain: the normal approximation is already within a hair of it.
constexpr std::size_t kExactMaxLarger = 1000;
constexpr std::size_t kExactMaxSmaller = 8;

// The null distribution of U for samples of sizes m and n without ties: counts of the orderings
// by U (pairs with x > y). g[a](u) counts the orderings of a x-values and b y-values whose U is u:
// the largest value is either an x, which beats all b y-values (g[a-1] shifted by b), or a y
// (g[a] at b - 1). Symmetric: P(U <= u) = P(U >= mn - u).
std::vector<double> exact_u_counts(std::size_t m, std::size_t n) {
  if (m > n) std::swap(m, n);
  std::vector<std::vector<double>> g(m + 1, std::vector<double>{1.0});  // b = 0: U = 0 only
  for (std::size_t b = 1; b <= n; ++b) {
    for (std::size_t a = 1; a <= m; ++a) {
      std::vector<double> next(a * b + 1, 0.0);
      const std::vector<double>& y_last = g[a];      // g_{a, b-1}
      const std::vector<double>& x_last = g[a - 1];  // g_{a-1, b}, already advanced to b
      for (std::size_t k = 0; k < next.size(); ++k) {
        double c = k < y_last.size() ? y_last[k] : 0.0;
        if (k >= b && k - b < x_last.size()) c += x_last[k - b];
        next[k] = c;
      }
      g[a] = std::move(next);
    }
  }
  return g[m];
}

// P(U >= u) under the null hypothesis for samples of sizes m and n without ties.
double exact_upper_tail(std::size_t m, std::size_t n, double u) {
  const std::vector<double> dist = exact_u_counts(m, n);
  double total = 0, tail = 0;
  for (std::size_t k = 0; k < dist.size(); ++k) {
    total += dist[k];
    if (static_cast<double>(k) >= u - 1e-9) tail += dist[k];
  }
  return tail / total;
}

// The largest k with P(U <= k) <= alpha / 2 under the null, or -1 when there is none. Exact up
// to 50 values a side (the counts fit a double), else the normal approximation.
long lower_critical_u(std::size_t m, std::size_t n, double alpha) {
  if (m == 0 || n == 0) return -1;
  if (std::max(m, n) <= 50) {
    const std::vector<double> dist = exact_u_counts(m, n);
    double total = 0;
    for (double c : dist)
      total += c;
    double cum = 0;
    long k = -1;
    for (std::size_t u = 0; u < dist.size(); ++u) {
      cum += dist[u];
      if (cum / total > alpha / 2) break;
      k = static_cast<long>(u);
    }
    return k;
  }
  const double dm = static_cast<double>(m), dn = static_cast<double>(n);
  // z of alpha / 2 by bisection on erfc (no inverse in <cmath>).
  double lo = 0, hi = 10;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) / 2 > alpha / 2 ? lo : hi) = mid;
  }
  const double k = dm * dn / 2 - hi * std::sqrt(dm * dn * (dm + dn + 1) / 12) - 0.5;
  return k < 0 ? -1 : static_cast<long>(std::floor(k));
}

}  // namespace

MannWhitney mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitney r;
  const std::size_t n1 = x.size(), n2 = y.size();
  if (n1 == 0 || n2 == 0) {
    r.p = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  std::vector<std::pair<double, bool>> all;  // value, from x
  all.reserve(n1 + n2);
  for (double v : x)
    all.emplace_back(v, true);
  for (double v : y)
    all.emplace_back(v, false);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::size_t n = all.size();
  double rank_sum_x = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].first == all[i].first)
      ++j;
    const double avg_rank = static_cast<double>(i + 1 + j) / 2;  // ranks i+1 .. j
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second) rank_sum_x += avg_rank;
    const auto t = static_cast<double>(j - i);
    if (j - i > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  r.u_x = rank_sum_x - d1 * (d1 + 1) / 2;
  r.u_y = d1 * d2 - r.u_x;
  const double big = std::max(r.u_x, r.u_y);
  if (!ties && std::min(n1, n2) <= kExactMaxSmaller && std::max(n1, n2) <= kExactMaxLarger) {
    r.exact = true;
    r.p = std::min(1.0, 2 * exact_upper_tail(n1, n2, big));
    return r;
  }
  const double dn = d1 + d2;
  const double var = d1 * d2 / 12 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  if (!(var > 0)) {  // every value equal: nothing tells the samples apart
    r.p = 1;
    return r;
  }
  const double z = (big - d1 * d2 / 2 - 0.5) / std::sqrt(var);
  r.p = std::min(1.0, std::erfc(z / std::sqrt(2.0)));  // 2 * P(Z > z)
  return r;
}

double min_two_sided_p(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  const std::size_t k = std::min(n1, n2), n = n1 + n2;
  double c = 1;  // C(n, k)
  for (std::size_t i = 1; i <= k; ++i)
    c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::min(1.0, 2 / c);
}

// "a, b, c (+2 more)"
std::string list_some(const std::vector<std::string>& v, std::size_t most) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < most; ++i)
    s += (i ? ", " : "") + v[i];
  if (v.size() > most) s += " (+" + std::to_string(v.size() - most) + " more)";
  return s;
}

ShiftInterval shift_interval(const std::vector<double>& x, const std::vector<double>& y,
                             double alpha) {
  ShiftInterval r;
  const long k = lower_critical_u(x.size(), y.size(), alpha);
  if (k < 0) return r;
  std::vector<double> d;
  d.reserve(x.size() * y.size());
  for (double a : x)
    for (double b : y)
      d.push_back(b - a);
  std::sort(d.begin(), d.end());
  const auto ku = static_cast<std::size_t>(k);
  r.bounded = true;
  r.low = d[ku];                  // d_(k+1), 1-based
  r.high = d[d.size() - 1 - ku];  // d_(nm-k)
  return r;
}

// ---- Metrics ------------------------------------------------------------------------------

const std::vector<std::string_view>& compare_key_columns() {
  static const std::vector<std::string_view> cols = [] {
    std::vector<std::string_view> keys;
    for (const Column* c : {&col::queue, &col::workload, &col::producers, &col::consumers})
      keys.push_back(c->name);
    for (const Column& c : results_table().columns)
      if (c.role == Role::key && std::find(keys.begin(), keys.end(), c.name) == keys.end())
        keys.push_back(c.name);
    return keys;
  }();
  return cols;
}

std::vector<std::string> default_compare_metrics() {
  std::vector<std::string> out;
  for (const Column& c : results_table().columns)
    if (c.has(compared)) out.emplace_back(c.name);
  return out;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A column compare can judge: one with a direction in the column table, or one qbench does not
// know (a newer file's extra column).
bool is_measurement(std::string_view name) {
  const Column* c = results_table().find(name);
  return c == nullptr || c->better != Better::none;
}

}  // namespace

Better metric_better(std::string_view name) {
  if (const Column* c = results_table().find(name); c && c->better != Better::none)
    return c->better;
  return ends_with(name, "_per_s") ? Better::higher : Better::lower;
}

std::string_view to_string(Finding f) {
  switch (f) {
    case Finding::regression:
      return "regression";
    case Finding::improvement:
      return "improvement";
    case Finding::same:
      return "same";
    case Finding::inconclusive:
      return "inconclusive";
    case Finding::not_applicable:
      return "n/a";
  }
  return "?";
}

std::size_t CompareReport::count(Finding f) const {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [f](const auto& r) { return r.finding == f; }));
}

int CompareReport::exit_code() const {
  if (count(Finding::regression) || !candidate_failures.empty()) return 1;
  return count(Finding::inconclusive) && !allow_inconclusive ? 3 : 0;
}

// ---- The comparison -----------------------------------------------------------------------

namespace {

using Key = std::vector<std::string>;

std::string quote(std::string_view s) {
  // Appends only (GCC 12 warns falsely, -Wrestrict, on `"'" + std::string`).
  std::string q = "'";
  q += s;
  q += '\'';
  return q;
}

// One file, grouped by configuration, with the chosen metrics parsed.
struct Side {
  const ResultsTable* t = nullptr;
  std::vector<Key> keys;  // distinct configurations, in file order
  std::map<Key, std::size_t> index;
  std::vector<std::vector<std::size_t>> rows_of;        // per configuration
  std::vector<std::vector<std::optional<double>>> val;  // per row, per metric
  std::vector<bool> ok;                                 // per row: verdict ok
  std::size_t verdict_col = 0, detail_col = 0, rep_col = 0, host_col = 0;

  [[nodiscard]] std::optional<std::size_t> find(const Key& k) const {
    const auto it = index.find(k);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }
};

// Numbers as numbers: 1e+06 and 1000000 are the same rate.
std::string canonical(const std::string& s) {
  if (const auto v = parse_field_number(s)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", *v);
    return buf;
  }
  return s;
}

Side index_side(const ResultsTable& t, const std::vector<std::string>& metrics) {
  Side s;
  s.t = &t;
  s.verdict_col = *t.column(col::verdict.name);
  s.detail_col = *t.column(col::verdict_detail.name);
  s.rep_col = *t.column(col::rep.name);
  s.host_col = *t.column(col::host.name);
  std::vector<std::size_t> key_cols, metric_cols;
  for (auto c : compare_key_columns())
    key_cols.push_back(*t.column(c));
  for (const auto& m : metrics)
    metric_cols.push_back(*t.column(m));
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    Key k;
    for (std::size_t c : key_cols)
      k.push_back(canonical(t.at(r, c)));
    auto [it, added] = s.index.emplace(k, s.keys.size());
    if (added) {
      s.keys.push_back(std::move(k));
      s.rows_of.emplace_back();
    }
    s.rows_of[it->second].push_back(r);
    s.ok.push_back(t.at(r, s.verdict_col) == "ok");
    std::vector<std::optional<double>> v;
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      const std::string& f = t.at(r, metric_cols[i]);
      auto num = parse_field_number(f);
      if (!num && f.find_first_not_of(' ') != std::string::npos) {
        throw CompareError(t.name + ":" + std::to_string(t.line[r]) + ": column " +
                           quote(metrics[i]) + " holds " + quote(f) + ", not a number");
      }
      v.push_back(num);
    }
    s.val.push_back(std::move(v));
  }
  return s;
}

std::vector<std::string> distinct(const ResultsTable& t, std::string_view col) {
  std::vector<std::string> out;
  const std::size_t c = *t.column(col);
  for (const auto& row : t.rows)
    if (!row[c].empty() && std::find(out.begin(), out.end(), row[c]) == out.end())
      out.push_back(row[c]);
  return out;
}

std::string describe(const ResultsTable& t) {
  std::string s = t.name + " (" + std::to_string(t.rows.size()) + " rows";
  const auto sha = distinct(t, col::git_sha.name);
  const auto host = distinct(t, col::host.name);
  if (!sha.empty()) s += "; git " + list_some(sha);
  if (!host.empty()) s += "; host " + list_some(host);
  for (const Column* c : {&col::cpu_model, &col::kernel, &col::qbench_version, &col::build_type}) {
    const auto v = distinct(t, c->name);
    if (!v.empty()) s += "; " + std::string(c->name) + " " + list_some(v);
  }
  return s + ")";
}

// Appends " name=value" (the first without the space). Appends only: GCC 12 warns falsely,
// -Wrestrict, on `" " + std::string`.
void append_setting(std::string& s, std::string_view name, std::string_view value) {
  if (!s.empty()) s += ' ';
  s += name;
  s += '=';
  s += value;
}

// Labels name a configuration by queue, workload and threads, plus every other key column that
// takes two or more values among the configurations of both files. A blank value (not
// applicable, like the rate of a flood) is left out; a column with a single value goes once in
// `common`. Should two configurations still read the same (one ends by --duration, the other by
// --items), their labels get every column in which they differ, blank shown as '-'.
class Labeller {
 public:
  std::string common;

  Labeller(const Side& a, const Side& b) {
    const auto& cols = compare_key_columns();
    std::vector<bool> varies(cols.size(), false);
    for (std::size_t c = 4; c < cols.size(); ++c) {
      std::set<std::string> values;
      for (const Side* s : {&a, &b})
        for (const auto& k : s->keys)
          if (!k[c].empty()) values.insert(k[c]);
      varies[c] = values.size() > 1;
      if (values.size() == 1) append_setting(common, cols[c], *values.begin());
    }
    std::map<std::string, std::vector<const Key*>> by_label;
    for (const Side* s : {&a, &b}) {
      for (const auto& k : s->keys) {
        if (labels_.count(k)) continue;
        std::string l = k[0] + " " + k[1] + " " + k[2] + "x" + k[3];
        for (std::size_t c = 4; c < cols.size(); ++c)
          if (varies[c] && !k[c].empty()) append_setting(l, cols[c], k[c]);
        labels_[k] = l;
        by_label[l].push_back(&k);
      }
    }
    for (const auto& [l, keys] : by_label) {
      if (keys.size() < 2) continue;
      for (std::size_t c = 4; c < cols.size(); ++c) {
        if (varies[c]) continue;
        const bool differ = std::any_of(keys.begin(), keys.end(),
                                        [&](const Key* k) { return (*k)[c] != (*keys[0])[c]; });
        if (!differ) continue;
        for (const Key* k : keys)
          append_setting(labels_[*k], cols[c], (*k)[c].empty() ? "-" : (*k)[c]);
      }
    }
  }

  [[nodiscard]] const std::string& operator()(const Key& k) const { return labels_.at(k); }

 private:
  std::map<Key, std::string> labels_;
};

// "2 of 9 repetitions stalled, 1 failed (first: '...')", or "" when every row is ok.
std::string failures(const Side& s, std::size_t config) {
  const auto& rows = s.rows_of[config];
  std::vector<std::pair<std::string, std::size_t>> by_verdict;
  std::size_t bad = 0;
  std::string detail;
  for (std::size_t r : rows) {
    if (s.ok[r]) continue;
    ++bad;
    const std::string& field = s.t->at(r, s.verdict_col);
    const std::string v = field.empty() ? "with a blank verdict" : field;
    auto it = std::find_if(by_verdict.begin(), by_verdict.end(),
                           [&](const auto& p) { return p.first == v; });
    if (it == by_verdict.end())
      by_verdict.emplace_back(v, 1);
    else
      ++it->second;
    if (detail.empty()) detail = s.t->at(r, s.detail_col);
  }
  if (!bad) return "";
  std::string msg;
  for (std::size_t i = 0; i < by_verdict.size(); ++i) {
    msg += (i ? ", " : "") + std::to_string(by_verdict[i].second) +
           (i ? "" : " of " + std::to_string(rows.size()) + " repetitions") + " " +
           by_verdict[i].first;
  }
  for (char& c : detail)
    if (c == '\n' || c == '\r') c = ' ';
  if (detail.size() > 100) detail = detail.substr(0, 97) + "...";
  if (!detail.empty()) msg += " (first: " + quote(detail) + ")";
  return msg;
}

// The values of each metric for configuration `config` of one side: one per ok row; or, with a
// reference configuration, one ratio per pair of rows with the same host and rep number, the
// k-th such row of each (files concatenated from several invocations repeat rep numbers), and
// both ok. Pairs with a blank or zero reference value are left out.
struct Samples {
  std::vector<std::vector<double>> per_metric;
  std::size_t unpaired = 0;  // ok rows without an ok reference row
};

Samples samples(const Side& s, std::size_t config, std::optional<std::size_t> ref,
                std::size_t metrics) {
  Samples out;
  out.per_metric.resize(metrics);
  if (!ref) {
    for (std::size_t r : s.rows_of[config]) {
      if (!s.ok[r]) continue;
      for (std::size_t m = 0; m < metrics; ++m)
        if (s.val[r][m]) out.per_metric[m].push_back(*s.val[r][m]);
    }
    return out;
  }
  using Slot = std::pair<std::string, std::string>;  // host, rep
  auto group = [&](std::size_t c) {
    std::map<Slot, std::vector<std::size_t>> g;
    for (std::size_t r : s.rows_of[c])
      g[{s.t->at(r, s.host_col), canonical(s.t->at(r, s.rep_col))}].push_back(r);
    return g;
  };
  const auto mine = group(config);
  const auto theirs = group(*ref);
  static const std::vector<std::size_t> none;
  for (const auto& [slot, rows] : mine) {
    const auto it = theirs.find(slot);
    const auto& partners = it == theirs.end() ? none : it->second;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::size_t a = rows[i];
      if (!s.ok[a]) continue;
      if (i >= partners.size() || !s.ok[partners[i]]) {
        ++out.unpaired;
        continue;
      }
      const std::size_t b = partners[i];
      for (std::size_t m = 0; m < metrics; ++m)
        if (s.val[a][m] && s.val[b][m] && *s.val[b][m] != 0)
          out.per_metric[m].push_back(*s.val[a][m] / *s.val[b][m]);
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(Correction c) {
  switch (c) {
    case Correction::holm:
      return "holm";
    case Correction::bh:
      return "bh";
    case Correction::none:
      return "none";
  }
  return "?";
}

std::vector<double> adjust_p_values(const std::vector<double>& p, Correction c) {
  std::vector<double> adj(p.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  const double m = static_cast<double>(idx.size());
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return p[a] < p[b]; });
  if (c == Correction::none) {
    for (std::size_t i : idx)
      adj[i] = p[i];
  } else if (c == Correction::holm) {
    // Step-down: the k-th smallest (k from 0) is multiplied by m - k; running maximum.
    double running = 0;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      running = std::max(running, std::min(1.0, (m - static_cast<double>(k)) * p[idx[k]]));
      adj[idx[k]] = running;
    }
  } else {
    // Benjamini-Hochberg step-up: m / rank times p; running minimum from the largest down.
    double running = 1;
    for (std::size_t k = idx.size(); k-- > 0;) {
      running = std::min(running, std::min(1.0, m / static_cast<double>(k + 1) * p[idx[k]]));
      adj[idx[k]] = running;
    }
  }
  return adj;
}

namespace {

Finding judge(const MetricComparison& c, const std::string& metric, const CompareOptions& o) {
  if (c.n_base == 0 || c.n_cand == 0) return Finding::not_applicable;
  // Positive when the candidate is worse.
  const double worse = metric_better(metric) == Better::higher ? -c.change : c.change;
  const bool significant = c.p_adj < o.alpha;
  if (worse > o.threshold && significant) return Finding::regression;
  if (worse < -o.threshold && significant) return Finding::improvement;
  if (c.ci_low >= -o.threshold && c.ci_high <= o.threshold) return Finding::same;
  return Finding::inconclusive;
}

// Repetitions a side that would likely decide an inconclusive comparison: the interval narrows
// as 1 / sqrt(n), so n * (half-width / room)^2, where room is what the interval must clear (to
// fit inside +-threshold, or to leave it); at least what the test needs to ever reach alpha.
std::size_t reps_to_decide(const MetricComparison& c, double threshold, std::size_t at_least) {
  const double n = static_cast<double>(std::min(c.n_base, c.n_cand));
  if (!std::isfinite(c.ci_low) || !std::isfinite(c.ci_high) || n == 0) return at_least;
  const double half = (c.ci_high - c.ci_low) / 2, centre = (c.ci_high + c.ci_low) / 2;
  const double room = std::fabs(threshold - std::fabs(centre));
  if (room <= threshold * 0.02) return 1000;
  const double need = std::ceil(n * (half / room) * (half / room));
  return std::clamp(static_cast<std::size_t>(need), at_least, std::size_t{1000});
}

// Names the key columns whose values do not overlap at all between the two sides.
std::string why_disjoint(const Side& a, const Side& b) {
  const auto& cols = compare_key_columns();
  std::string why;
  std::size_t named = 0;
  for (std::size_t c = 0; c < cols.size() && named < 2; ++c) {
    std::set<std::string> va, vb;
    for (const auto& k : a.keys)
      va.insert(k[c]);
    for (const auto& k : b.keys)
      vb.insert(k[c]);
    if (std::any_of(va.begin(), va.end(), [&](const auto& v) { return vb.count(v) > 0; })) continue;
    auto show = [](const std::set<std::string>& v) {
      std::vector<std::string> l;
      for (const auto& x : v)
        l.push_back(x.empty() ? "(blank)" : x);
      return list_some(l);
    };
    if (named++) why += "; ";
    why += cols[c];
    why += " is " + show(va) + " in one and " + show(vb) + " in the other";
  }
  return why.empty() ? "no single column differs, the combinations do" : why;
}

}  // namespace

CompareReport compare_results(const ResultsTable& base, const ResultsTable& cand,
                              const CompareOptions& o) {
  // Metrics: columns of both files that hold measurements.
  std::vector<std::string> metrics;
  for (const auto& m : o.metrics)
    if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  if (metrics.empty()) throw CompareError("--metric: expected at least one column name");
  for (const auto& m : metrics) {
    if (!is_measurement(m)) {
      throw CompareError("--metric: " + quote(m) +
                         " is not a measurement (a configuration, context or text column); "
                         "expected a metric such as " +
                         list_some(default_compare_metrics()) +
                         " (`qbench columns` lists every column with its role)");
    }
    const bool in_base = base.column(m).has_value(), in_cand = cand.column(m).has_value();
    if (!in_base && !in_cand) {
      throw CompareError("--metric: unknown column " + quote(m) +
                         "; expected a metric of the results files such as " +
                         list_some(default_compare_metrics()) +
                         " (`qbench columns` lists every column with its role)");
    }
    if (!in_base || !in_cand) {
      throw CompareError("--metric: column " + quote(m) + " is in " +
                         (in_base ? base.name : cand.name) + " but not in " +
                         (in_base ? cand.name : base.name));
    }
  }

  const Side b = index_side(base, metrics);
  const Side c = index_side(cand, metrics);
  const Labeller label(b, c);

  CompareReport rep;
  rep.baseline = describe(base);
  rep.candidate = describe(cand);
  rep.common = label.common;
  rep.allow_inconclusive = o.allow_inconclusive;

  // One machine: two hosts (or CPU models) differ by more than the changes a gate looks for.
  if (!o.allow_mixed_hosts) {
    for (const Column* which : {&col::host, &col::cpu_model}) {
      std::vector<std::string> all = distinct(base, which->name);
      for (const auto& v : distinct(cand, which->name))
        if (std::find(all.begin(), all.end(), v) == all.end()) all.push_back(v);
      if (all.size() > 1) {
        throw CompareError("the rows come from " + std::to_string(all.size()) + " " +
                           std::string(which->name) + " values (" + list_some(all) +
                           "): results from two machines differ by more than the changes a "
                           "gate looks for; compare runs from one machine, or pass "
                           "--allow-mixed-hosts");
      }
    }
  }

  // Normalisation needs the reference queue on both sides.
  const std::string& ref_queue = o.normalize_by;
  if (!ref_queue.empty()) {
    for (const Side* s : {&b, &c}) {
      const auto queues = distinct(*s->t, col::queue.name);
      if (std::find(queues.begin(), queues.end(), ref_queue) == queues.end()) {
        throw CompareError("--normalize-by: queue " + quote(ref_queue) + " has no rows in " +
                           s->t->name + "; expected a queue run in both files (" +
                           list_some(queues, 5) + ")");
      }
    }
  }

  // Failures, on both sides, of every configuration (matched or not).
  for (std::size_t i = 0; i < c.keys.size(); ++i) {
    const std::string f = failures(c, i);
    if (f.empty()) continue;
    const auto in_base = b.find(c.keys[i]);
    const bool also = in_base && !failures(b, *in_base).empty();
    rep.candidate_failures.push_back(label(c.keys[i]) + ": " + f +
                                     (also ? "; it failed on the baseline too" : ""));
  }
  for (std::size_t i = 0; i < b.keys.size(); ++i) {
    const std::string f = failures(b, i);
    if (!f.empty())
      rep.notes.push_back("baseline run failed, excluded: " + label(b.keys[i]) + ": " + f);
  }

  // Match configurations by key.
  std::size_t common = 0;
  for (std::size_t i = 0; i < b.keys.size(); ++i) {
    const auto j = c.find(b.keys[i]);
    if (!j) {
      rep.only_baseline.push_back(label(b.keys[i]));
      continue;
    }
    ++common;
    if (!ref_queue.empty() && b.keys[i][0] == ref_queue) continue;  // the reference: ratio 1

    std::optional<std::size_t> ref_b, ref_c;
    if (!ref_queue.empty()) {
      Key rk = b.keys[i];
      rk[0] = ref_queue;
      ref_b = b.find(rk);
      ref_c = c.find(rk);
      if (!ref_b || !ref_c) {
        rep.notes.push_back("skipped " + label(b.keys[i]) + ": no " + ref_queue +
                            " run under the same configuration in " +
                            (!ref_b ? base.name : cand.name) + " to normalise by");
        continue;
      }
    }
    const Samples sb = samples(b, i, ref_b, metrics.size());
    const Samples sc = samples(c, *j, ref_c, metrics.size());
    if (sb.unpaired || sc.unpaired) {
      rep.notes.push_back(label(b.keys[i]) + ": " + std::to_string(sb.unpaired + sc.unpaired) +
                          " repetition(s) without an ok " + ref_queue +
                          " run of the same rep and host, left out");
    }
    const std::size_t config = rep.configs.size();
    rep.configs.push_back(label(b.keys[i]));
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      MetricComparison mc;
      mc.config = config;
      mc.metric = metrics[m];
      const auto& xb = sb.per_metric[m];
      const auto& xc = sc.per_metric[m];
      mc.n_base = xb.size();
      mc.n_cand = xc.size();
      if (mc.n_base && mc.n_cand) {
        mc.base_median = median_of(xb);
        mc.cand_median = median_of(xc);
        if (mc.base_median != 0)
          mc.change = mc.cand_median / mc.base_median - 1;
        else if (mc.cand_median != 0)
          mc.change = std::copysign(std::numeric_limits<double>::infinity(), mc.cand_median);
        const MannWhitney u = mann_whitney_u(xb, xc);
        mc.p = u.p;
        mc.exact = u.exact;
        // The shift's interval relative to the baseline median (a zero median: only "no shift
        // at all" is bounded).
        const ShiftInterval ci = shift_interval(xb, xc, o.alpha);
        const double scale = std::fabs(mc.base_median);
        if (ci.bounded && scale > 0) {
          mc.ci_low = ci.low / scale;
          mc.ci_high = ci.high / scale;
        } else if (ci.bounded && ci.low == 0 && ci.high == 0) {
          mc.ci_low = mc.ci_high = 0;
        }
      } else {
        mc.p = std::numeric_limits<double>::quiet_NaN();
      }
      rep.rows.push_back(std::move(mc));
    }
  }
  for (const auto& k : c.keys)
    if (!b.find(k)) rep.only_candidate.push_back(label(k));

  if (common == 0) {
    throw CompareError("no configuration in common between " + base.name + " and " + cand.name +
                       " (" + why_disjoint(b, c) + ")");
  }
  if (rep.configs.empty() && !ref_queue.empty()) {
    throw CompareError("--normalize-by: no configuration has a " + ref_queue +
                       " run beside it in both files; nothing to compare");
  }

  // Adjust over every comparison that has values, then judge. `need`: the repetitions a side
  // the test needs to ever reach the adjusted alpha.
  std::size_t need = 1;
  {
    std::vector<double> raw;
    for (const auto& r : rep.rows)
      raw.push_back(r.p);
    const auto adj = adjust_p_values(raw, o.correction);
    std::size_t tested = 0;
    for (double p : raw)
      tested += !std::isnan(p);
    rep.comparisons = tested;
    // The most lenient bar any single comparison meets: alpha / m for Holm (its first step),
    // alpha for Benjamini-Hochberg (all significant together) and for no correction.
    rep.effective_alpha = o.correction == Correction::holm && tested > 0
                              ? o.alpha / static_cast<double>(tested)
                              : o.alpha;
    while (min_two_sided_p(need, need) >= rep.effective_alpha && need < 1000)
      ++need;
    for (std::size_t i = 0; i < rep.rows.size(); ++i) {
      auto& r = rep.rows[i];
      r.p_adj = std::isnan(adj[i]) ? 1.0 : adj[i];
      if (std::isnan(r.p)) r.p = 1.0;
      if (r.n_base && r.n_cand)
        r.too_few = min_two_sided_p(r.n_base, r.n_cand) >= rep.effective_alpha;
      r.finding = judge(r, r.metric, o);
      if (r.finding == Finding::inconclusive) r.reps_needed = reps_to_decide(r, o.threshold, need);
    }
  }

  // Too few repetitions for the test to ever pass, grouped by sample sizes.
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> too_few;
  for (const auto& r : rep.rows)
    if (r.too_few && r.finding != Finding::not_applicable) ++too_few[{r.n_base, r.n_cand}];
  for (const auto& [sizes, n] : too_few) {
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  "too few repetitions: %zu comparison(s) have %zu baseline x %zu candidate "
                  "values, whose smallest possible two-sided p is %.3g, never below %g (--alpha "
                  "%g, %s over %zu comparisons): they can not be flagged; run at least %zu "
                  "repetitions on each side (qbench run --reps)",
                  n, sizes.first, sizes.second, min_two_sided_p(sizes.first, sizes.second),
                  rep.effective_alpha, o.alpha, std::string(to_string(o.correction)).c_str(),
                  rep.comparisons, need);
    rep.warnings.push_back(buf);
  }
  for (const Side* s : {&b, &c}) {
    const auto san = distinct(*s->t, col::sanitizer.name);
    if (!san.empty()) {
      rep.warnings.push_back(s->t->name + " has rows from a sanitizer build (" + list_some(san) +
                             "): its timings are not results");
    }
    for (const auto& bt : distinct(*s->t, col::build_type.name)) {
      if (bt != "Release" && bt != "RelWithDebInfo") {
        rep.warnings.push_back(s->t->name + " has rows from a " + bt +
                               " build: its timings are not results");
        break;
      }
    }
  }
  if (o.allow_mixed_hosts && ref_queue.empty()) {
    const auto hb = distinct(base, col::host.name), hc = distinct(cand, col::host.name);
    const bool overlap = std::any_of(hb.begin(), hb.end(), [&](const auto& h) {
      return std::find(hc.begin(), hc.end(), h) != hc.end();
    });
    if (!overlap && !hb.empty() && !hc.empty()) {
      rep.notes.push_back("the sides ran on different hosts (" + list_some(hb) + " / " +
                          list_some(hc) +
                          "): a machine difference reads as a change; --normalize-by QUEUE "
                          "compares each queue with a reference queue run beside it");
    }
  }
  // Every significant change one way, over several configurations: drift, not code.
  {
    const std::size_t worse = rep.count(Finding::regression);
    const std::size_t better = rep.count(Finding::improvement);
    std::set<std::size_t> configs;
    for (const auto& r : rep.rows)
      if (r.finding == Finding::regression || r.finding == Finding::improvement)
        configs.insert(r.config);
    if (worse + better >= 3 && configs.size() >= 3 && (worse == 0 || better == 0)) {
      rep.warnings.push_back(
          "every one of the " + std::to_string(worse + better) + " significant changes is " +
          (worse ? "a regression" : "an improvement") + ", over " + std::to_string(configs.size()) +
          " configurations: that is how a machine that changed between the two runs looks "
          "(frequency, neighbours, thermal state), more often than a change of code; run both "
          "sides interleaved on one machine (scripts/perf-check.sh) before believing it");
    }
  }
  return rep;
}

// ---- Output -------------------------------------------------------------------------------

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// In the metric's unit (the column table's); a column qbench does not know, as a plain number.
std::string value_text(const std::string& metric, double v, bool ratio) {
  if (ratio) return fmt("%.3f", v) + "x";
  const double a = std::fabs(v);
  const Column* c = results_table().find(metric);
  const Unit unit = c ? c->unit : Unit::none;
  if (unit == Unit::nanoseconds && a >= 1) return units::format_ns(v);
  if (unit == Unit::bytes && a >= 1) return units::format_bytes(v);
  if (unit == Unit::per_second && a >= 1000) return units::format_rate(v);
  return fmt("%.4g", v);
}

std::string change_text(const MetricComparison& r) {
  if (r.finding == Finding::not_applicable) return "";
  if (std::isinf(r.change)) return r.change > 0 ? "+inf%" : "-inf%";
  return fmt("%+.1f%%", r.change * 100);
}

std::string p_fmt(double p) {
  if (p < 0.0001) return "<0.0001";
  return fmt("%.4f", p);
}
std::string p_text(const MetricComparison& r) {
  if (r.finding == Finding::not_applicable) return "";
  return p_fmt(r.p);
}
std::string p_adj_text(const MetricComparison& r) {
  if (r.finding == Finding::not_applicable) return "";
  return p_fmt(r.p_adj);
}

std::string n_text(const MetricComparison& r) {
  return std::to_string(r.n_base) + "v" + std::to_string(r.n_cand);
}

// "inconclusive: ~N reps a side would decide" (or "too few reps" when the test can never pass).
std::string inconclusive_text(const MetricComparison& r) {
  return std::string("inconclusive (") + (r.too_few ? "too few reps; " : "") + "~" +
         std::to_string(r.reps_needed) + (r.reps_needed >= 1000 ? "+" : "") +
         " reps a side would decide)";
}

std::string verdict_console(const MetricComparison& r) {
  switch (r.finding) {
    case Finding::regression:
      return "!! REGRESSION";
    case Finding::improvement:
      return "++ improvement";
    case Finding::same:
      return "=  same";
    case Finding::inconclusive:
      return "?  " + inconclusive_text(r);
    case Finding::not_applicable:
      return "-  n/a (no values)";
  }
  return "";
}

std::string verdict_markdown(const MetricComparison& r) {
  switch (r.finding) {
    case Finding::regression:
      return ":red_circle: **regression**";
    case Finding::improvement:
      return ":green_circle: improvement";
    case Finding::same:
      return ":white_circle: same";
    case Finding::inconclusive:
      return ":grey_question: " + inconclusive_text(r);
    case Finding::not_applicable:
      return "n/a (no values)";
  }
  return "";
}

std::string rule_text(const CompareOptions& o) {
  std::string metrics;
  for (const auto& m : o.metrics)
    metrics += (metrics.empty() ? "" : ", ") + m + " (" +
               (metric_better(m) == Better::higher ? "higher" : "lower") + " is better)";
  return "metrics " + metrics + "; a regression is a change of the median worse than " +
         fmt("%g", o.threshold * 100) + "% with adjusted p < " + fmt("%g", o.alpha) +
         " (two-sided Mann-Whitney U test over the repetitions; p adjusted over all comparisons: " +
         std::string(to_string(o.correction)) + "); same: the " + fmt("%g", (1 - o.alpha) * 100) +
         "% confidence interval of the shift lies within +-" + fmt("%g", o.threshold * 100) +
         "%; else inconclusive";
}

std::string summary_text(const CompareReport& r) {
  auto n = [&](Finding f) { return r.count(f); };
  std::string s = std::to_string(r.rows.size()) + " comparison(s) in " +
                  std::to_string(r.configs.size()) +
                  " configuration(s): " + std::to_string(n(Finding::regression)) +
                  " regression(s), " + std::to_string(n(Finding::improvement)) +
                  " improvement(s), " + std::to_string(n(Finding::same)) + " same, " +
                  std::to_string(n(Finding::inconclusive)) + " inconclusive";
  if (n(Finding::not_applicable)) s += ", " + std::to_string(n(Finding::not_applicable)) + " n/a";
  if (!r.candidate_failures.empty())
    s += "; " + std::to_string(r.candidate_failures.size()) +
         " configuration(s) failed on candidate";
  if (!r.only_baseline.empty() || !r.only_candidate.empty()) {
    s += "; " + std::to_string(r.only_baseline.size()) + " only in baseline, " +
         std::to_string(r.only_candidate.size()) + " only in candidate";
  }
  return s;
}

// FAIL (exit 1), INCONCLUSIVE (exit 3), ok (exit 0, inconclusive ones allowed or none).
std::string outcome_text(const CompareReport& r) {
  switch (r.exit_code()) {
    case 1:
      return "FAIL";
    case 3:
      return "INCONCLUSIVE: run more repetitions (or --allow-inconclusive)";
    default:
      return r.count(Finding::inconclusive) ? "ok (inconclusive ones allowed)" : "ok";
  }
}

std::string pad(const std::string& s, std::size_t w, bool right) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

void write_compare_console(std::ostream& out, const CompareReport& r, const CompareOptions& o) {
  const bool ratio = !o.normalize_by.empty();
  out << "qbench compare\n  baseline:  " << r.baseline << "\n  candidate: " << r.candidate << "\n  "
      << rule_text(o) << "\n";
  if (ratio) {
    out << "  values are ratios to " << o.normalize_by
        << " run in the same file, configuration, host and rep (" << o.normalize_by
        << " itself is not compared)\n";
  }
  if (!r.common.empty())
    out << "  every configuration has (where applicable): " << r.common << "\n";
  out << "\n";

  const std::vector<std::string> head = {
      "configuration", "metric", "n", "baseline", "candidate", "change", "p", "p_adj", "verdict"};
  const std::vector<bool> right = {false, false, true, true, true, true, true, true, false};
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : r.rows) {
    const bool na = row.finding == Finding::not_applicable;
    cells.push_back({r.configs[row.config], row.metric, n_text(row),
                     na ? "" : value_text(row.metric, row.base_median, ratio),
                     na ? "" : value_text(row.metric, row.cand_median, ratio), change_text(row),
                     p_text(row), p_adj_text(row), verdict_console(row)});
  }
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) {
    w[i] = head[i].size();
    for (const auto& c : cells)
      w[i] = std::max(w[i], c[i].size());
  }
  auto line = [&](const std::vector<std::string>& c) {
    std::string s;
    for (std::size_t i = 0; i < c.size(); ++i)
      s += (i ? "  " : "") + (i + 1 == c.size() ? c[i] : pad(c[i], w[i], right[i]));
    out << s << "\n";
  };
  line(head);
  std::size_t last_config = static_cast<std::size_t>(-1);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto c = cells[i];
    if (r.rows[i].config == last_config) c[0].clear();  // one label per configuration
    last_config = r.rows[i].config;
    line(c);
  }

  if (!r.only_baseline.empty()) {
    out << "\nonly in baseline (" << r.only_baseline.size() << "), not compared:\n";
    for (const auto& s : r.only_baseline)
      out << "  " << s << "\n";
  }
  if (!r.only_candidate.empty()) {
    out << "\nonly in candidate (" << r.only_candidate.size() << "), not compared:\n";
    for (const auto& s : r.only_candidate)
      out << "  " << s << "\n";
  }
  if (!r.candidate_failures.empty()) {
    out << "\nFAILED on candidate (" << r.candidate_failures.size()
        << "; failed runs are excluded from the statistics and fail the comparison):\n";
    for (const auto& s : r.candidate_failures)
      out << "  " << s << "\n";
  }
  if (!r.notes.empty()) {
    out << "\n";
    for (const auto& s : r.notes)
      out << "note: " << s << "\n";
  }
  if (!r.warnings.empty()) {
    out << "\n";
    for (const auto& s : r.warnings)
      out << "warning: " << s << "\n";
  }
  out << "\n"
      << summary_text(r) << " => " << outcome_text(r) << " (exit " << r.exit_code() << ")\n";
}

void write_compare_markdown(std::ostream& out, const CompareReport& r, const CompareOptions& o) {
  const bool ratio = !o.normalize_by.empty();
  auto cell = [](std::string s) {
    std::string e;
    for (char ch : s) {
      if (ch == '|') e += '\\';
      e += ch == '\n' ? ' ' : ch;
    }
    return e;
  };
  const std::size_t regressions = r.count(Finding::regression);
  out << "### qbench compare: ";
  if (r.exit_code() == 1) {
    out << ":x: " << regressions << " regression(s)";
    if (!r.candidate_failures.empty())
      out << ", " << r.candidate_failures.size() << " failed configuration(s)";
  } else if (r.exit_code() == 3) {
    out << ":grey_question: inconclusive: " << r.count(Finding::inconclusive)
        << " comparison(s) need more repetitions";
  } else {
    out << ":white_check_mark: no regression";
  }
  out << "\n\n"
      << "Baseline `" << cell(r.baseline) << "` vs candidate `" << cell(r.candidate) << "`; "
      << cell(rule_text(o)) << ".";
  if (ratio) {
    out << " Values are ratios to `" << cell(o.normalize_by)
        << "` run in the same file, configuration, host and rep.";
  }
  if (!r.common.empty())
    out << " Every configuration has (where applicable) `" << cell(r.common) << "`.";
  out << "\n\n"
      << "| configuration | metric | n | baseline | candidate | change | p | p_adj | verdict |\n"
      << "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const auto& row : r.rows) {
    const bool na = row.finding == Finding::not_applicable;
    out << "| `" << cell(r.configs[row.config]) << "` | " << cell(row.metric) << " | "
        << n_text(row) << " | " << (na ? "" : value_text(row.metric, row.base_median, ratio))
        << " | " << (na ? "" : value_text(row.metric, row.cand_median, ratio)) << " | "
        << change_text(row) << " | " << p_text(row) << " | " << p_adj_text(row) << " | "
        << verdict_markdown(row) << " |\n";
  }
  auto section = [&](const std::string& title, const std::vector<std::string>& items,
                     const char* prefix) {
    if (items.empty()) return;
    out << "\n**" << title << "**\n\n";
    for (const auto& s : items)
      out << "- " << prefix << cell(s) << "\n";
  };
  section("Failed on candidate (excluded from the statistics; fails the comparison)",
          r.candidate_failures, ":x: ");
  section("Only in baseline (not compared)", r.only_baseline, "");
  section("Only in candidate (not compared)", r.only_candidate, "");
  section("Notes", r.notes, "");
  section("Warnings", r.warnings, ":warning: ");
  out << "\n" << summary_text(r) << ".\n";
}

}  // namespace qb
