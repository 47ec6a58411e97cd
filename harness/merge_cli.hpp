// `qbench merge OUT.csv IN...`: the results files of a sharded sweep joined into one and checked
// (results/merge.hpp). Exit codes: 0 merged and complete; 1 merged, with missing parts or
// duplicates; 2 bad input (unreadable file, another schema, OUT exists without --overwrite),
// nothing written.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace qb::cli {

struct MergeArgs {
  std::string out;
  std::vector<std::string> inputs;
  bool overwrite = false;
};

void add_merge_options(CLI::App& merge, MergeArgs& a);
int merge_command(const MergeArgs& a, std::ostream& out, std::ostream& err);

}  // namespace qb::cli
