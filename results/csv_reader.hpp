// Reads a qbench results file (results/README.md) back: the header, checked against qbench's own
// schema, and every row, for `qbench compare` and scripts written in C++.
//
// Header policy (a schema grows only at the end, without a version bump; DESIGN.md section 6):
// - the first column must be `schema_version`, and every row must say 2 (csv_schema_version), or
//   1 under a header of schema v1: v2 renamed three columns (Column::formerly: `rate` is
//   `rate_per_s`, `peak_rate` `peak_rate_per_s`, `depth` `tree_depth`); a v1 file is read as v2,
//   its columns under their new names and its rows' schema_version made 2;
// - the header must agree with qbench's columns (csv_columns()) over their common length, and
//   reach at least `peak_depth`, the last column of v1 as first released. So a file written by an
//   older qbench (without the later columns, such as `pacing`) is read, its missing columns blank
//   ("not applicable"), and a file from a newer qbench (more columns at the end) is read too, its
//   extra columns kept by name (usable as `compare --metric`). Anything else is another schema.
// - A line identical to the header further down is skipped: `cat a.csv b.csv` concatenates two
//   results files of the same schema into one. A different header further down is an error.
// - Blank lines are skipped. Every other row must have exactly one field per header column.
//   Quoted fields may hold commas, quotes and newlines (RFC 4180).
// Any violation throws ReadError with one line naming the file (and the line, for a row).
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace qb {

struct ReadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ResultsTable {
  std::string name;                            // the file, as given (for messages)
  std::vector<std::string> columns;            // csv_columns() order, then the file's extra columns
  std::vector<std::vector<std::string>> rows;  // one field per entry of `columns`
  std::vector<std::size_t> line;               // first line of each row in the file (1-based)
  std::size_t known_in_file = 0;               // how many of qbench's columns the file itself had

  [[nodiscard]] std::optional<std::size_t> column(std::string_view col) const;
  // The field of `row` in column `col` (which must exist).
  [[nodiscard]] const std::string& at(std::size_t row, std::size_t col) const {
    return rows[row][col];
  }
};

// Reads `path`. Throws ReadError ("<path>: ...") if it cannot be read, has another schema, or has
// a malformed row.
ResultsTable read_results_file(const std::string& path);
// The same from a stream; `name` is used in messages.
ResultsTable read_results(std::istream& in, const std::string& name);

// A finite number, or nullopt (blank, malformed, inf, nan).
std::optional<double> parse_field_number(std::string_view s);

}  // namespace qb
