// The CSV files: their columns come from the column table (results/columns.hpp: schema_version
// first, the run context on every row, blank for not applicable, new columns only at the end);
// results/README.md documents every column with its unit. Writing, quoting and parsing lines.
#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "results/columns.hpp"
#include "results/context.hpp"
#include "results/run_result.hpp"

namespace qb {

// A row of values by column, in schema order.
using CsvRow = std::vector<std::string>;

// The names of results_table() and timeseries_table(), in order.
const std::vector<std::string_view>& csv_columns();
const std::vector<std::string_view>& timeseries_columns();

std::string csv_header();
std::string timeseries_header();
CsvRow csv_values(const RunContext& ctx, const RunResult& r, std::string_view run_id);
// One time-series row: the run's identity and shape, then the sample.
CsvRow timeseries_values(const RunContext& ctx, const RunResult& r, std::string_view run_id,
                         const Sample& s);
std::string csv_line(const CsvRow& row);  // quoted where needed, no newline

// Splits one CSV line (RFC 4180 quoting). Throws std::runtime_error on a malformed line.
std::vector<std::string> parse_csv_line(std::string_view line);

// The reporter interface (Google Benchmark's split): the context once, one result per
// repetition, then finalize. Not on any hot path.
class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void report_context(const RunContext& ctx) = 0;
  virtual void report_run(const RunResult& r, std::string_view run_id) = 0;
  virtual void finalize() {}
};

// Writes CSV to a stream: the header, then one line per run.
class CsvReporter : public Reporter {
 public:
  explicit CsvReporter(std::ostream& out, bool write_header = true)
      : out_(out), header_(write_header) {}
  void report_context(const RunContext& ctx) override;
  void report_run(const RunResult& r, std::string_view run_id) override;

 private:
  std::ostream& out_;
  bool header_;
  RunContext ctx_;
};

// Thrown for an output file qbench must not touch (foreign schema, unwritable path).
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A CSV file that is valid after every commit: each commit writes the whole content to a
// temporary file in the same directory and renames it over the target, so a crash or Ctrl-C
// never leaves a half-written file. An existing file with the same header is appended to; one
// with another header is refused, never overwritten (unless `overwrite`).
class CsvFile {
 public:
  // Checks the target and that its directory is writable. Throws OutputError.
  CsvFile(std::string path, std::string header, bool overwrite);
  void add_line(const std::string& line) { lines_ += line + "\n"; }
  void commit();  // throws OutputError
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] bool appended() const { return appended_; }

 private:
  std::string path_;
  std::string header_;
  std::string existing_;  // the file's previous content, header included
  std::string lines_;     // rows added by this invocation
  bool appended_ = false;
};

}  // namespace qb
