#include "harness/merge_cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "harness/usage.hpp"
#include "results/csv.hpp"
#include "results/merge.hpp"

namespace qb::cli {

void add_merge_options(CLI::App& merge, MergeArgs& a) {
  merge.add_option("out", a.out, "the merged results file (refused if it exists, see --overwrite)")
      ->required()
      ->type_name("FILE");
  merge.add_option("inputs", a.inputs, "results files to join: the parts of a --shard sweep")
      ->required()
      ->type_name("FILE");
  merge.add_flag("--overwrite", a.overwrite, "replace OUT if it exists");
  merge.footer(
      "Checks: one schema (the same columns), every part 1..N of the sweep once (from the shard "
      "column), no configuration repetition in two inputs; configurations measured on several "
      "hosts are flagged.\n"
      "Exit codes: 0 merged and complete, 1 merged with missing parts or duplicates (listed), 2 "
      "bad input (nothing written).");
}

int merge_command(const MergeArgs& a, std::ostream& out, std::ostream& err) {
  try {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!a.overwrite && fs::exists(a.out, ec))
      throw UsageError("merge: " + a.out + " exists (--overwrite replaces it)");
    std::vector<ResultsTable> inputs;
    for (const auto& path : a.inputs) {
      if (fs::equivalent(path, a.out, ec))
        throw UsageError("merge: " + path + " is both an input and the output");
      try {
        inputs.push_back(read_results_file(path));
      } catch (const ReadError& e) {
        throw UsageError(std::string("merge: ") + e.what());
      }
    }
    const MergeReport r = merge_results(inputs);
    // Written whole to a temporary file beside OUT, then renamed: never a partial OUT.
    const std::string tmp = a.out + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << csv_line(r.merged.columns) << "\n";
      for (const auto& row : r.merged.rows)
        f << csv_line(row) << "\n";
      if (!f.flush()) {
        std::remove(tmp.c_str());
        throw UsageError("merge: cannot write " + tmp);
      }
    }
    if (std::rename(tmp.c_str(), a.out.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw UsageError("merge: cannot write " + a.out);
    }
    out << "merged " << r.merged.rows.size() << " rows from " << inputs.size() << " file(s) into "
        << a.out << "\n";
    for (const auto& n : r.notes)
      out << "note: " << n << "\n";
    for (const auto& p : r.problems)
      err << "qbench: merge: " << p << "\n";
    return r.problems.empty() ? 0 : 1;
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
  } catch (const MergeError& e) {
    err << "qbench: merge: " << e.what() << "\n";
  }
  return 2;
}

}  // namespace qb::cli
