#include "results/csv_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "results/csv.hpp"

namespace qb {

namespace {

struct Record {
  std::string text;
  std::size_t line;  // 1-based line where the record starts
};

// Splits the content into records at newlines outside quotes (a quoted field may hold one).
std::vector<Record> split_records(const std::string& content) {
  std::vector<Record> out;
  std::size_t line = 1, start_line = 1;
  bool quoted = false;
  std::string cur;
  for (char ch : content) {
    if (ch == '"') quoted = !quoted;  // "" inside quotes toggles twice: still quoted
    if (ch == '\n') {
      ++line;
      if (!quoted) {
        out.push_back({std::move(cur), start_line});
        cur.clear();
        start_line = line;
        continue;
      }
    }
    cur += ch;
  }
  if (!cur.empty()) out.push_back({std::move(cur), start_line});
  return out;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\r' || c == '\t'; });
}

std::string quote(std::string_view s) {
  // Appends only (GCC 12 warns falsely, -Wrestrict, on `"'" + std::string`).
  std::string q = "'";
  q += s;
  q += '\'';
  return q;
}

}  // namespace

std::optional<std::size_t> ResultsTable::column(std::string_view col) const {
  const auto it = std::find(columns.begin(), columns.end(), col);
  if (it == columns.end()) return std::nullopt;
  return static_cast<std::size_t>(it - columns.begin());
}

std::optional<double> parse_field_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

ResultsTable read_results(std::istream& in, const std::string& name) {
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw ReadError(name + ": cannot read the file");
  if (content.rfind("\xEF\xBB\xBF", 0) == 0) content.erase(0, 3);  // a UTF-8 byte order mark

  const auto records = split_records(content);
  std::size_t first = 0;
  while (first < records.size() && blank(records[first].text))
    ++first;
  if (first == records.size())
    throw ReadError(name + ": empty file; expected a qbench results file (qbench run --out)");

  auto fields_of = [&](const Record& r) {
    try {
      return parse_csv_line(r.text);
    } catch (const std::exception& e) {
      throw ReadError(name + ":" + std::to_string(r.line) + ": malformed CSV (" + e.what() + ")");
    }
  };

  const std::vector<std::string> header = fields_of(records[first]);
  const auto& known = csv_columns();
  if (header.front() != col::schema_version.name) {
    throw ReadError(name + ": not a qbench results file: its header starts with " +
                    quote(header.front()) + ", not schema_version");
  }
  // The header of schema v1: the same columns, the renamed ones under their v1 names. A v1 file
  // is read as v2 (its columns under their new names, its rows' schema_version made 2).
  const auto& cols = results_table().columns;
  const std::size_t common = std::min(header.size(), known.size());
  // One pass: a renamed column under its v1 name makes the file v1, under its v2 name v2.
  bool v1 = false, v2 = false;
  for (std::size_t i = 0; i < common; ++i) {
    const bool renamed = !cols[i].formerly.empty();
    if (header[i] == known[i]) {
      v2 = v2 || renamed;
    } else if (renamed && header[i] == cols[i].formerly) {
      v1 = true;
    } else {
      throw ReadError(name + ": another CSV schema: column " + std::to_string(i + 1) + " is " +
                      quote(header[i]) + " where qbench's schema v" +
                      std::to_string(csv_schema_version) + " has " + quote(known[i]) +
                      (renamed ? " (v1: " + std::string(cols[i].formerly) + ")" : std::string()));
    }
  }
  if (v1 && v2) {
    throw ReadError(name +
                    ": another CSV schema: a renamed column's v2 name in a header with v1 "
                    "names of others: neither schema");
  }
  // Schema v1 as first released: the columns before the first appended one.
  const auto original_end = static_cast<std::size_t>(
      std::find_if(cols.begin(), cols.end(), [](const Column& c) { return c.has(appended); }) -
      cols.begin());
  if (header.size() < original_end) {
    throw ReadError(name + ": another CSV schema: the header stops after " + quote(header.back()) +
                    "; qbench's schema v" + std::to_string(csv_schema_version) + " has at least " +
                    std::to_string(original_end) + " columns (up to " +
                    std::string(known[original_end - 1]) + ")");
  }

  ResultsTable t;
  t.name = name;
  t.known_in_file = common;
  t.columns.assign(known.begin(), known.end());
  for (std::size_t i = known.size(); i < header.size(); ++i) {
    if (header[i].empty() || t.column(header[i])) {
      throw ReadError(name + ": column " + std::to_string(i + 1) + " " + quote(header[i]) +
                      " is blank or repeats another column");
    }
    t.columns.push_back(header[i]);
  }

  const std::string version = std::to_string(csv_schema_version);
  const std::string file_version = v1 ? "1" : version;
  for (std::size_t r = first + 1; r < records.size(); ++r) {
    const Record& rec = records[r];
    if (blank(rec.text)) continue;
    std::vector<std::string> f = fields_of(rec);
    if (f.front() == col::schema_version.name) {
      if (f == header) continue;  // files concatenated with their headers
      throw ReadError(name + ":" + std::to_string(rec.line) +
                      ": a second header, different from the first (files of different schemas "
                      "concatenated)");
    }
    if (f.size() != header.size()) {
      throw ReadError(name + ":" + std::to_string(rec.line) + ": " + std::to_string(f.size()) +
                      " fields where the header has " + std::to_string(header.size()));
    }
    if (f.front() != file_version) {
      throw ReadError(name + ":" + std::to_string(rec.line) + ": schema_version " +
                      quote(f.front()) + " under a schema v" + file_version +
                      " header; this qbench reads schema v1 and v" + version);
    }
    f.front() = version;  // read as the current schema
    // Into the table's layout: qbench's columns (blank where an older file lacks them), extras.
    std::vector<std::string> row(t.columns.size());
    for (std::size_t i = 0; i < common; ++i)
      row[i] = std::move(f[i]);
    for (std::size_t i = known.size(); i < header.size(); ++i)
      row[i] = std::move(f[i]);
    t.rows.push_back(std::move(row));
    t.line.push_back(rec.line);
  }
  return t;
}

ResultsTable read_results_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw ReadError(path + ": cannot read: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw ReadError(path + ": is a directory, not a results file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReadError(path + ": cannot read: " + std::strerror(errno));
  return read_results(in, path);
}

}  // namespace qb
