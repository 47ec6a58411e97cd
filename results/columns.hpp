// The column table (DESIGN.md, "The column table"): one row per column of every CSV file qbench
// writes, with its name, role, type, unit, better direction and the getter that takes its value
// from a run. Everything else reads these rows: the header and rows of the results file
// (results/csv.hpp), the time-series and calibration files, the configuration key and the metric
// directions of `qbench compare`, `qbench columns [--json]`, and through scripts/columns.json the
// Python scripts. A new column is one row in results/columns.cpp plus its line in
// results/README.md.
#pragma once

#include <array>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/kinds.hpp"
#include "results/calibration.hpp"
#include "results/context.hpp"
#include "results/run_result.hpp"

namespace qb {

// Each file's schema version: its first column on every row. A file's header is the same for the
// same version; columns are only ever appended, and a change that removes, reorders or changes
// the meaning of a column bumps the version.
inline constexpr int csv_schema_version = 2;  // the results file
inline constexpr int timeseries_schema_version = 2;
inline constexpr int calibration_schema_version = 1;

// What a column says about a row.
enum class Role {
  context,   // the machine and build (repeated on every row so that files concatenate)
  identity,  // names one sample of a configuration: run id, repetition, seed, tick time
  key,       // configuration key: rows that differ in one are different configurations
  setting,   // configuration that is not a key: follows a key or the machine, or a safety limit
  verdict,   // how the run ended and why
  metric,    // a measurement, with a better direction
};
enum class Type { text, number };
// Units of numbers. A blank field is "not applicable" whatever the unit.
enum class Unit {
  none,
  seconds,
  nanoseconds,
  bytes,
  per_second,
  items,
  count,
  threads,
  cpus,
  flag,
  ratio
};
// Which way a measurement improves; none for what is not a measurement.
enum class Better { none, higher, lower };

template <>
struct EnumNames<Role> {
  static constexpr std::array<std::string_view, 6> names = {"context", "identity", "key",
                                                            "setting", "verdict",  "metric"};
};
template <>
struct EnumNames<Type> {
  static constexpr std::array<std::string_view, 2> names = {"text", "number"};
};
template <>
struct EnumNames<Unit> {
  static constexpr std::array<std::string_view, 11> names = {
      "", "s", "ns", "bytes", "1/s", "items", "count", "threads", "cpus", "0/1", "ratio"};
};
template <>
struct EnumNames<Better> {
  static constexpr std::array<std::string_view, 3> names = {"", "higher", "lower"};
};

// Everything a row is made of. Each file's getters read what that file has: the results file
// the context, the run and its id; the time-series file also one sample; the calibration file
// the context and the calibration.
struct RowSource {
  const RunContext* context = nullptr;
  const RunResult* run = nullptr;
  std::string_view run_id;
  const Sample* sample = nullptr;
  const Calibration* calibration = nullptr;
  int schema_version = 0;  // the file's (set by row_values from its table)
};

using Getter = std::string (*)(const RowSource&);

// Column flags.
inline constexpr unsigned appended = 1;  // added to schema v1 after its first release: files
                                         // from an older qbench lack it (read as blank)
inline constexpr unsigned compared = 2;  // a metric `qbench compare` compares by default

struct Column {
  std::string_view name;
  Role role;
  Type type;
  Unit unit;
  Better better;
  Getter get;
  unsigned flags = 0;
  // Its name in schema v1 when v2 renamed it (`rate` is `rate_per_s` since v2), else empty.
  // Readers of v1 files (results/csv_reader, scripts/qbcsv.py) read it under its new name.
  std::string_view formerly{};

  [[nodiscard]] constexpr bool has(unsigned f) const { return (flags & f) != 0; }
};

// One file: its name in `qbench columns`, its schema version and its columns in order.
struct ColumnTable {
  std::string_view file;
  int schema_version;
  std::span<const Column> columns;

  [[nodiscard]] const Column* find(std::string_view name) const;
  [[nodiscard]] std::vector<std::string_view> names() const;
  [[nodiscard]] std::string header() const;  // names joined by commas (no quoting needed)
  // One value per column, in order; blank where not applicable.
  [[nodiscard]] std::vector<std::string> row_values(RowSource src) const;
};

const ColumnTable& results_table();
const ColumnTable& timeseries_table();
const ColumnTable& calibration_table();
// The three, in that order.
std::span<const ColumnTable* const> column_tables();

// `qbench columns`: each file's columns, aligned (name, role, type, unit, better, flags), or as
// JSON (scripts/columns.json is this output, checked in).
void write_columns_text(std::ostream& out);
void write_columns_json(std::ostream& out);

// The columns that code elsewhere names, and that the time-series and calibration files share
// with the results file. Their rows are these objects (results/columns.cpp), so a name is still
// written once; the rest of the columns are reached only through the tables.
namespace col {
extern const Column schema_version, run_id, timestamp, qbench_version, git_sha, host, cpu_model,
    cores, memory_bytes, kernel, compiler, build_type, sanitizer, queue, workload, producers,
    consumers, capacity, backpressure, rep, verdict, verdict_detail, shard, item_bytes,
    throughput_per_s, latency_p50_ns, latency_p99_ns;
}  // namespace col

}  // namespace qb
