// `qbench merge OUT.csv IN...`: the results files of a sharded sweep (--shard K/N on several
// machines or jobs) joined into one, checked:
// - one schema: every input must have the same columns (a file from another qbench version, with
//   other appended columns, is refused: MergeError, exit 2);
// - every part once: from the `shard` column ("K/N"), the parts 1..N must all be there, from one
//   sharding (one N); a part in no input is `missing`; a configuration repetition (every key
//   column and `rep`) in two inputs is `duplicated` (the same part given twice, or run twice);
// - hosts per configuration: a configuration whose rows came from several hosts or CPU models is
//   flagged (its repetitions measured two machines; `qbench compare` refuses it).
// Missing parts and duplicates are problems (exit 1; the merged file is still written, with
// every row, so that it can be inspected); flags are notes.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "results/csv_reader.hpp"

namespace qb {

struct MergeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MergeReport {
  ResultsTable merged;                // every input's rows, in input order
  std::vector<std::string> problems;  // missing parts, duplicates, mixed shardings
  std::vector<std::string> notes;     // configurations measured on several hosts
};

// Throws MergeError when the inputs do not share one schema (or there are none).
MergeReport merge_results(const std::vector<ResultsTable>& inputs);

}  // namespace qb
