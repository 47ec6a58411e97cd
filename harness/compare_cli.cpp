#include "harness/compare_cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "core/units.hpp"
#include "harness/cli.hpp"
#include "harness/usage.hpp"
#include "results/compare.hpp"
#include "results/csv_reader.hpp"

namespace qb::cli {

namespace {

template <class List>
std::string joined(const List& v, std::string_view sep) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += sep;
    s += x;
  }
  return s;
}

}  // namespace

std::string default_metric_list() {
  return joined(default_compare_metrics(), ",");
}

std::string default_threshold_text() {
  char text[32];
  std::snprintf(text, sizeof text, "%g%%", CompareOptions{}.threshold * 100);
  return text;
}

std::string default_alpha_text() {
  char text[32];
  std::snprintf(text, sizeof text, "%g", CompareOptions{}.alpha);
  return text;
}

std::string default_correction_text() {
  return std::string(to_string(CompareOptions{}.correction));
}

void add_compare_options(CLI::App& compare, CompareArgs& a) {
  compare.add_option("baseline", a.baseline, "results file of the reference (qbench run --out)")
      ->required()
      ->type_name("FILE");
  compare.add_option("candidate", a.candidate, "results file to judge against it")
      ->required()
      ->type_name("FILE");
  compare
      .add_option("-m,--metric", a.metric,
                  "metrics to compare, comma-separated: columns with a better direction in "
                  "`qbench columns` (results/README.md)")
      ->capture_default_str()
      ->type_name("LIST");
  compare
      .add_option("--threshold", a.threshold,
                  "smallest change of the median that counts: 10% or 0.1")
      ->capture_default_str()
      ->type_name("FRACTION");
  compare
      .add_option("--alpha", a.alpha,
                  "significance level of the two-sided Mann-Whitney U test over repetitions")
      ->capture_default_str()
      ->type_name("PROBABILITY");
  compare
      .add_option("--correction", a.correction,
                  "adjust p over all comparisons of the report: holm (no false alarm in the "
                  "whole report with probability 1 - alpha), bh (false discovery rate), none")
      ->capture_default_str()
      ->type_name("NAME");
  compare
      .add_option("--normalize-by", a.normalize_by,
                  "divide each queue's values, rep by rep, by this queue's under the same "
                  "configuration in the same file (a slower machine is then no regression)")
      ->check(CLI::Validator(
          [](std::string& v) { return v.empty() ? std::string("expected a queue name") : ""; }, ""))
      ->type_name("QUEUE");
  compare.add_flag("--markdown", a.markdown,
                   "write a GitHub-flavoured Markdown report (for a CI job summary)");
  compare.add_flag("--allow-inconclusive", a.allow_inconclusive,
                   "exit 0 instead of 3 when comparisons remain inconclusive (too few "
                   "repetitions or too much spread to decide)");
  compare.add_flag("--allow-mixed-hosts", a.allow_mixed_hosts,
                   "compare rows from several hosts or CPU models (refused by default: two "
                   "machines differ by more than the changes a gate looks for)");
  compare.footer(
      "Rows are matched by configuration (every key column of `qbench columns`: " +
      joined(compare_key_columns(), ", ") +
      "), not by position, host or commit; each side may hold several repetitions per "
      "configuration. Runs whose verdict is not ok are left out of the statistics; on the "
      "candidate they fail the comparison.\n"
      "Verdicts: regression / improvement (beyond --threshold, adjusted p < --alpha), same (the "
      "confidence interval of the shift lies within --threshold), inconclusive (neither: more "
      "repetitions would decide; the report estimates how many).\n"
      "Exit codes: 0 no regression and nothing inconclusive, 1 a regression or a failed "
      "candidate run, 2 bad input (also: rows from several hosts without --allow-mixed-hosts), "
      "3 inconclusive comparisons only (0 with --allow-inconclusive).");
}

namespace {

double threshold_value(const std::string& s) {
  std::optional<double> v;
  if (!s.empty() && s.back() == '%') {
    v = units::parse_number(s.substr(0, s.size() - 1));
    if (v) *v /= 100;
  } else {
    v = units::parse_number(s);
    if (v && *v > 1) v.reset();  // "10" is ambiguous: 10% or 1000%?
  }
  if (!v || *v < 0 || *v > 10)
    bad("--threshold", s, "a relative change from 0% to 1000%, such as 10% or 0.1");
  return *v;
}

double alpha_value(const std::string& s) {
  const auto v = units::parse_number(s);
  if (!v || *v <= 0 || *v > 0.5)
    bad("--alpha", s, "a significance level above 0 and at most 0.5, such as 0.01");
  return *v;
}

}  // namespace

int compare_command(const CompareArgs& a, std::ostream& out, std::ostream& err) {
  try {
    CompareOptions o;
    o.metrics.clear();
    for (const auto& m : units::split_list(a.metric)) {
      if (m.empty()) bad("--metric", a.metric, "a comma-separated list of column names");
      o.metrics.push_back(m);
    }
    o.threshold = threshold_value(a.threshold);
    o.alpha = alpha_value(a.alpha);
    if (a.correction == "holm")
      o.correction = Correction::holm;
    else if (a.correction == "bh")
      o.correction = Correction::bh;
    else if (a.correction == "none")
      o.correction = Correction::none;
    else
      bad("--correction", a.correction, "holm, bh or none");
    o.normalize_by = a.normalize_by;
    o.allow_inconclusive = a.allow_inconclusive;
    o.allow_mixed_hosts = a.allow_mixed_hosts;

    ResultsTable base, cand;
    try {
      base = read_results_file(a.baseline);
    } catch (const ReadError& e) {
      throw UsageError(std::string("baseline ") + e.what());
    }
    try {
      cand = read_results_file(a.candidate);
    } catch (const ReadError& e) {
      throw UsageError(std::string("candidate ") + e.what());
    }
    const CompareReport r = compare_results(base, cand, o);
    if (a.markdown)
      write_compare_markdown(out, r, o);
    else
      write_compare_console(out, r, o);
    out.flush();
    return r.exit_code();
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
  } catch (const CompareError& e) {
    err << "qbench: " << e.what() << "\n";
  }
  return 2;
}

}  // namespace qb::cli
