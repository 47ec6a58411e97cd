// The `qbench compare BASELINE.csv CANDIDATE.csv` command: options as typed, their validation,
// and the report (results/compare.hpp holds the statistics and the decisions).
//
// Exit codes: 0 no regression; 1 a regression (a metric worse than --threshold with
// adjusted p < --alpha) or a configuration whose runs failed on the candidate; 2 bad input (one
// line on stderr naming the flag or the file: unreadable file, another CSV schema, malformed row,
// unknown metric, bad option value, no configuration in common).
#pragma once

#include <ostream>
#include <string>

namespace CLI {
class App;  // <CLI/CLI.hpp>: only the files that add options include it (it is heavy)
}  // namespace CLI

namespace qb::cli {

// The column table's default metrics of compare, comma-separated; and CompareOptions'
// defaults as typed (results/compare.hpp holds each default once).
std::string default_metric_list();
std::string default_threshold_text();   // "10%"
std::string default_alpha_text();       // "0.01"
std::string default_correction_text();  // "holm"

struct CompareArgs {
  std::string baseline;
  std::string candidate;
  std::string metric = default_metric_list();
  std::string threshold = default_threshold_text();
  std::string alpha = default_alpha_text();
  std::string correction = default_correction_text();
  std::string normalize_by;
  bool markdown = false;
  bool allow_inconclusive = false;
  bool allow_mixed_hosts = false;
};

void add_compare_options(CLI::App& compare, CompareArgs& a);
int compare_command(const CompareArgs& a, std::ostream& out, std::ostream& err);

}  // namespace qb::cli
