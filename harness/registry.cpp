#include "harness/registry.hpp"

#include <algorithm>
#include <vector>

#include "harness/registry_groups.hpp"

namespace qb {

const QueueEntry* Registry::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

void Registry::check_name(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '-' || c == '.' || c == ':';
  };
  if (name.empty() || !std::all_of(name.begin(), name.end(), allowed))
    throw std::invalid_argument("queue name '" + std::string(name) +
                                "' cannot be given to --queue: use letters, digits and _ + - . : "
                                "only");
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string Registry::nearest(std::string_view name) const {
  std::string best;
  std::size_t best_d = ~std::size_t{0};
  for (const auto& e : entries_) {
    const std::size_t d = edit_distance(name, e.name);
    if (d < best_d) {
      best_d = d;
      best = e.name;
    }
  }
  return best;
}

const Registry& default_registry() {
  static const Registry r = [] {
    Registry reg;
    // One translation unit per group (harness/registry_*.cpp): each instantiates the engine for
    // its queues, and the groups compile in parallel.
    add_blocking_queues(reg);
    add_polling_queues(reg);
    add_library_queues(reg);
    add_ring_queues(reg);
    add_structured_queues(reg);
    return reg;
  }();
  return r;
}

}  // namespace qb
