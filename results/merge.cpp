#include "results/merge.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "results/columns.hpp"
#include "results/compare.hpp"

namespace qb {

MergeReport merge_results(const std::vector<ResultsTable>& inputs) {
  if (inputs.empty()) throw MergeError("nothing to merge: name at least one input file");
  MergeReport rep;
  rep.merged.columns = inputs[0].columns;
  rep.merged.known_in_file = inputs[0].known_in_file;
  for (const auto& t : inputs) {
    if (t.columns != inputs[0].columns || t.known_in_file != inputs[0].known_in_file) {
      throw MergeError(t.name + " has other columns than " + inputs[0].name +
                       " (another qbench version): merge the results of one version");
    }
  }
  const ResultsTable& first = inputs[0];
  const auto& keys = compare_key_columns();
  std::vector<std::size_t> key_at;
  for (const auto& k : keys)
    key_at.push_back(*first.column(k));
  const std::size_t rep_at = *first.column(col::rep.name);
  const std::size_t shard_at = *first.column(col::shard.name);
  const std::size_t host_at = *first.column(col::host.name);
  const std::size_t cpu_at = *first.column(col::cpu_model.name);

  std::map<std::vector<std::string>, std::size_t> first_input;         // key + rep -> input
  std::map<std::vector<std::string>, std::set<std::string>> machines;  // key -> host / cpu
  std::map<std::uint64_t, std::set<std::uint64_t>> parts;              // N -> parts present
  std::size_t unsharded = 0;
  std::vector<std::string> duplicated;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const ResultsTable& t = inputs[i];
    std::set<std::vector<std::string>> mine;
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      const auto& row = t.rows[r];
      rep.merged.rows.push_back(row);
      rep.merged.line.push_back(t.line[r]);
      std::vector<std::string> key;
      for (std::size_t c : key_at)
        key.push_back(row[c]);
      const std::string label =
          row[key_at[0]] + " " + row[key_at[1]] + " " + row[key_at[2]] + "x" + row[key_at[3]];
      machines[key].insert(row[host_at] + " (" + row[cpu_at] + ")");
      key.push_back(row[rep_at]);
      if (mine.insert(key).second) {
        const auto [it, fresh] = first_input.emplace(key, i);
        if (!fresh)
          duplicated.push_back(label + " rep " + row[rep_at] + " in " + inputs[it->second].name +
                               " and " + t.name);
      }
      if (row[shard_at].empty()) {
        ++unsharded;
      } else if (const auto slash = row[shard_at].find('/'); slash != std::string::npos) {
        const auto k = parse_field_number(row[shard_at].substr(0, slash));
        const auto n = parse_field_number(row[shard_at].substr(slash + 1));
        if (k && n) parts[static_cast<std::uint64_t>(*n)].insert(static_cast<std::uint64_t>(*k));
      }
    }
  }
  if (!duplicated.empty()) {
    rep.problems.push_back(std::to_string(duplicated.size()) +
                           " repetition(s) duplicated (the same part given twice, or run "
                           "twice): " +
                           list_some(duplicated));
  }
  if (parts.size() > 1) {
    std::vector<std::string> ns;
    for (const auto& [n, _] : parts) {
      std::string part = "/";  // appends only: GCC 12 warns falsely (-Wrestrict) on "/" + string
      part += std::to_string(n);
      ns.push_back(part);
    }
    rep.problems.push_back("the inputs come from different shardings (" + list_some(ns) +
                           "): their parts do not add up to one matrix");
  }
  for (const auto& [n, present] : parts) {
    std::vector<std::string> missing;
    for (std::uint64_t k = 1; k <= n; ++k)
      if (!present.count(k)) missing.push_back(std::to_string(k) + "/" + std::to_string(n));
    if (!missing.empty()) {
      rep.problems.push_back(std::to_string(missing.size()) + " of " + std::to_string(n) +
                             " parts missing: " + list_some(missing, 8));
    }
  }
  if (!parts.empty() && unsharded) {
    rep.problems.push_back(std::to_string(unsharded) +
                           " row(s) without a shard beside sharded ones: a full run mixed into "
                           "a sharded sweep");
  }
  std::vector<std::string> mixed;
  for (const auto& [key, where] : machines) {
    if (where.size() < 2) continue;
    std::vector<std::string> w(where.begin(), where.end());
    mixed.push_back(key[0] + " " + key[1] + " " + key[2] + "x" + key[3] + " (" + list_some(w, 3) +
                    ")");
  }
  if (!mixed.empty()) {
    rep.notes.push_back(std::to_string(mixed.size()) +
                        " configuration(s) measured on several hosts or CPU models, so their "
                        "repetitions mix machines (qbench compare refuses them unless "
                        "--allow-mixed-hosts): " +
                        list_some(mixed));
  }
  return rep;
}

}  // namespace qb
