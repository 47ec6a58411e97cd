// `qbench compare`: a regression gate between two results files that is honest on noisy shared
// machines. Rows are matched by configuration (never by position), each side's repetitions are
// summarised by their median, and a change counts only if it is both large (beyond a threshold)
// and significant (a two-sided Mann-Whitney U test across repetitions, p < alpha).
//
// Decisions (also in `qbench compare --help` and the report itself):
// - Configuration key: every column whose role in the column table (results/columns.hpp) is
//   `key`: queue, workload, threads, capacity, rates, burst shape, gaps, service, backpressure,
//   run length, pacing, shutdown, tree shape, keys, latency recording, pinning, and whatever key
//   column is added later. Not the context (host, git_sha, ...: comparing two commits or two
//   machines is the point), not the identity of a sample (run_id, rep, seed), and not the
//   settings that follow a key or the machine (queue_order/bound/progress follow the queue;
//   oversubscribed follows `cores`; stall_timeout_s and max_rss_bytes are watchdog limits,
//   max_rss defaulting to half the machine's memory). Numeric key fields are compared as numbers
//   (1e+06 matches 1000000).
// - Metrics: a column with a better direction in the column table (every metric, and the
//   machine's measured floor and clock cost), or a column qbench does not know (a newer file's
//   extra column). The direction is the table's; an unknown column is better lower unless its
//   name ends with _per_s. By default, the table's `compared` metrics.
// - Rows whose verdict is not `ok` are excluded from the statistics and reported. On the
//   candidate side they fail the gate (exit 1), as `qbench run` does; on the baseline side they
//   only warn.
// - Many comparisons: p-values are adjusted over every comparison of the report (Holm by
//   default, see Correction) and the adjusted p meets alpha.
// - Verdict of one metric of one configuration, in the spirit of Chromium Pinpoint's
//   different / same / unknown: `regression` when the change of the medians is worse than the
//   threshold and the adjusted p < alpha; `improvement` when better than the threshold and
//   p < alpha; `same` when the whole (1 - alpha) confidence interval of the shift (Hodges-Lehmann,
//   from the Mann-Whitney distribution: the interval between order statistics of the pairwise
//   differences candidate - baseline) lies within +-threshold of the baseline median, i.e. the
//   data show the change is small, not merely fail to show it is large; `inconclusive` otherwise
//   (too few repetitions, or too much spread, to say either), with an estimate of the
//   repetitions a side that would decide it; `n/a` when one side has no value (blank column,
//   every run failed).
// - Exit code: 1 for any regression or failed candidate run; else 3 when any comparison is
//   inconclusive (a gate that cannot decide says so; `allow_inconclusive` makes that 0); else 0.
// - Hosts: rows from more than one host or CPU model (over both files) are refused
//   (CompareError, exit 2) unless `allow_mixed_hosts`: results from two machines of one model
//   differ by more than the regressions a gate looks for. A report in which every significant
//   change points the same way across several configurations carries a warning: that is how
//   drift of the machine between the two runs looks.
// - Normalisation (`normalize_by`): each value is divided by the reference queue's value from
//   the same side, the same configuration except the queue, the same host and the same rep
//   number (the k-th such row pairs with the k-th, for files concatenated from several
//   invocations), both rows ok; a pair whose reference value is blank or 0 is left out. A
//   configuration without its reference is reported and skipped; the reference queue itself is
//   not compared.
// - Too few repetitions: when the smallest p-value the sample sizes allow (min_two_sided_p) is
//   not below alpha, no change can ever be flagged; the report warns and says how many
//   repetitions would do.
#pragma once

#include <cstddef>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "results/columns.hpp"
#include "results/csv_reader.hpp"

namespace qb {

// ---- Statistics ---------------------------------------------------------------------------

// The median (mean of the two middle values for an even count); NaN for no values.
double median_of(std::vector<double> v);

struct MannWhitney {
  double u_x = 0;      // pairs (x_i, y_j) with x_i > y_j, ties counting 1/2
  double u_y = 0;      // n_x * n_y - u_x
  double p = 1;        // two-sided
  bool exact = false;  // exact distribution (else normal approximation)
};

// The two-sided Mann-Whitney U test, p-value chosen like scipy.stats.mannwhitneyu(method='auto'):
// the exact null distribution when one sample has at most 8 values and there are no ties (and the
// other has at most 1000, beyond which the approximation is as good), else the normal
// approximation with the tie correction of the variance and a continuity correction of 1/2.
// Both samples must be non-empty (else p is NaN).
MannWhitney mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y);

// The smallest two-sided p-value samples of these sizes can produce: 2 / C(n1 + n2, n1), when
// the samples do not overlap at all (e.g. 2 vs 2: 1/3; 3 vs 3: 0.1; 4 vs 4: 0.029).
double min_two_sided_p(std::size_t n1, std::size_t n2);

// The distribution-free (1 - alpha) confidence interval of the shift y - x (Hodges-Lehmann, as
// in R's wilcox.test(conf.int = TRUE)): [d_(k+1), d_(nm-k)] of the n*m sorted pairwise
// differences, k the largest count with P(U <= k) <= alpha / 2 under the null (exact for small
// samples, else the normal approximation). Unbounded when the sizes are too small for any k
// (1 vs 1, 2 vs 3 at alpha 0.05).
struct ShiftInterval {
  bool bounded = false;
  double low = 0, high = 0;
};
ShiftInterval shift_interval(const std::vector<double>& x, const std::vector<double>& y,
                             double alpha);

// "a, b, c (+2 more)": at most `most` values of a list, for one-line messages.
std::string list_some(const std::vector<std::string>& v, std::size_t most = 3);

// ---- Metrics ------------------------------------------------------------------------------

// higher or lower (never none): the column table's direction, or for a column qbench does not
// know, higher when its name ends with _per_s and else lower.
Better metric_better(std::string_view column);
// The results file's key columns: queue, workload, producers, consumers (the start of every
// label), then the other key columns in file order.
const std::vector<std::string_view>& compare_key_columns();
// The metrics compared when none is named: the table's `compared` columns.
std::vector<std::string> default_compare_metrics();

// ---- The comparison -----------------------------------------------------------------------

// How the p-values of the many comparisons of one report are adjusted before they meet alpha.
// A suite compares dozens of (configuration, metric) pairs; at alpha 0.05 each, unadjusted
// tests flag a couple of regressions between two builds of the same code (seen: 1 in 42 on this
// machine). Holm's step-down method keeps the chance of any false alarm in the whole report
// below alpha; Benjamini-Hochberg keeps the expected share of false alarms among the flagged
// ones below alpha (more power, less protection); none tests each pair at alpha.
enum class Correction { holm, bh, none };
std::string_view to_string(Correction c);

// Adjusted p-values in the order given (NaN stays NaN and does not count as a comparison).
std::vector<double> adjust_p_values(const std::vector<double>& p, Correction c);

struct CompareOptions {
  std::vector<std::string> metrics = default_compare_metrics();
  double threshold = 0.10;  // relative change of the medians
  // The significance level of the whole report (see Correction). 0.01, not 0.05: a gate runs on
  // every pull request, and at 0.05 two runs of the same build at 9 repetitions a side with
  // suites/ci-v1.toml gave a false "regression" (a burst p99, adjusted p 0.046) in 1 of 6 tries
  // on this machine; asv asks p < 0.002 for the same reason. 9 a side still decides 42
  // comparisons (smallest p 4.1e-5 against 0.01 / 42).
  double alpha = 0.01;
  Correction correction = Correction::holm;
  std::string normalize_by;         // reference queue, or empty
  bool allow_inconclusive = false;  // exit 0 instead of 3 when undecided comparisons remain
  bool allow_mixed_hosts = false;   // compare rows from several hosts or CPU models
};

// Bad input detected while comparing (unknown metric, malformed number, nothing in common): the
// one-line message names the flag or the file. Exit code 2.
struct CompareError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Finding { regression, improvement, same, inconclusive, not_applicable };
std::string_view to_string(Finding f);

struct MetricComparison {
  std::size_t config = 0;  // index into CompareReport::configs
  std::string metric;
  std::size_t n_base = 0, n_cand = 0;  // values (or normalised pairs) on each side
  double base_median = 0, cand_median = 0;
  double change = 0;  // cand_median / base_median - 1
  double p = 1;       // raw two-sided p of the Mann-Whitney U test
  double p_adj = 1;   // adjusted over the report's comparisons (CompareOptions::correction)
  bool exact = false;
  bool too_few = false;  // the smallest p these sample sizes allow can never pass (adjusted)
  // The shift's confidence interval relative to the baseline median (see shift_interval):
  // unbounded (-inf, inf) when the sample sizes allow none or the baseline median is 0.
  double ci_low = -std::numeric_limits<double>::infinity();
  double ci_high = std::numeric_limits<double>::infinity();
  std::size_t reps_needed = 0;  // inconclusive: repetitions a side that would likely decide it
  Finding finding = Finding::not_applicable;
};

struct CompareReport {
  std::string baseline, candidate;   // "file (N rows; git ...; host ...)"
  std::vector<std::string> configs;  // labels of the compared configurations
  std::string common;                // key values shared by every configuration
  std::vector<MetricComparison> rows;
  std::vector<std::string> only_baseline;  // configuration labels
  std::vector<std::string> only_candidate;
  std::vector<std::string> candidate_failures;  // fail the gate
  std::vector<std::string> notes;               // baseline failures, skipped, unpaired, hosts
  std::vector<std::string> warnings;            // too few repetitions, sanitizer builds
  std::size_t comparisons = 0;                  // comparisons with values on both sides
  double effective_alpha = 0.01;                // the bar the smallest p must pass
  bool allow_inconclusive = false;              // CompareOptions::allow_inconclusive

  [[nodiscard]] std::size_t count(Finding f) const;
  // 1 when any regression or any candidate failure, else 3 when any comparison is inconclusive
  // (0 with allow_inconclusive), else 0.
  [[nodiscard]] int exit_code() const;
};

// Throws CompareError.
CompareReport compare_results(const ResultsTable& base, const ResultsTable& cand,
                              const CompareOptions& o);

// An aligned table for people (and CI logs), or GitHub-flavoured Markdown (a CI job summary).
void write_compare_console(std::ostream& out, const CompareReport& r, const CompareOptions& o);
void write_compare_markdown(std::ostream& out, const CompareReport& r, const CompareOptions& o);

}  // namespace qb
