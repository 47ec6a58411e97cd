// The registry: every runnable queue by name, with its traits and its run function. Types are
// erased here, once per run; the loops inside run_engine stay templates per queue and schedule.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/item.hpp"
#include "core/run_config.hpp"
#include "harness/bare.hpp"
#include "harness/engine.hpp"
#include "harness/pingpong.hpp"
#include "harness/tree.hpp"
#include "queues/concept.hpp"
#include "results/run_result.hpp"

namespace qb {

using BareFn = BareResult (*)(const BareConfig&);

struct QueueEntry {
  std::string_view name;
  QueueTraits traits;
  RunResult (*run)(const RunConfig&);
  std::string_view bare_of;  // the queue its bare reference drives (shared by strategies)
  bool user = false;         // registered by a user's benchmark binary, not built into qbench
  // Its bare reference (harness/bare.hpp) built for each of item_sizes; null where not built (a
  // queue your binary registers is built for qb::Item alone).
  std::array<BareFn, item_sizes.size()> bare_sized{};

  [[nodiscard]] bool carries(std::size_t item_bytes) const noexcept {
    const std::size_t i = item_size_index(item_bytes);
    return i < bare_sized.size() && bare_sized[i] != nullptr;
  }
  // The bare reference carrying cfg.item_bytes per item; carries(cfg.item_bytes) must hold.
  [[nodiscard]] BareResult bare(const BareConfig& cfg) const {
    return bare_sized[item_size_index(cfg.item_bytes)](cfg);
  }
};

template <class Q>
RunResult run_queue(const RunConfig& cfg) {
  switch (cfg.workload) {
    case WorkloadKind::steady:
      return run_engine<Q, SteadySchedule>(cfg);
    case WorkloadKind::burst:
      return run_engine<Q, BurstSchedule>(cfg);
    case WorkloadKind::flood:
      break;
    case WorkloadKind::tree:
      return run_tree<Q>(cfg);
    case WorkloadKind::pingpong:
      return run_pingpong<Q>(cfg);
  }
  return run_engine<Q, FloodSchedule>(cfg);
}

class Registry {
 public:
  // Explicit registration (no static-initialisation tricks: a static library drops them).
  // Throws std::invalid_argument when a queue of that name is registered already.
  template <class Q>
  void add(bool user = false) {
    static_assert(ConcurrentQueue<Q>);
    check_name(Q::name);
    if (const QueueEntry* e = find(Q::name))
      throw std::invalid_argument("queue name '" + std::string(Q::name) + "' is taken by " +
                                  (e->user ? "another of your queues" : "a built-in queue") +
                                  ": give your queue another `name`");
    entries_.push_back(
        QueueEntry{Q::name, Q::traits, &run_queue<Q>, bare_detail::Target<Q>::type::name, user});
    entries_.back().bare_sized[item_size_index(sizeof(Item))] = &run_bare<Q>;
  }
  template <class... Qs>
  void add_all(TypeList<Qs...>) {
    (add<Qs>(), ...);
  }
  // A group of queues/all_queues.hpp (List<Item>), with bare references for every item size
  // (List<Carried<N>>: the same queues carrying N bytes).
  template <template <class> class List>
  void add_group() {
    add_sized(List<Item>{}, bare_tables<List>(ItemSizes{}));
  }

 private:
  template <class... Qs>
  static constexpr std::array<BareFn, sizeof...(Qs)> bare_table(TypeList<Qs...>) {
    return {&run_bare<Qs>...};
  }
  template <template <class> class List, std::size_t... N>
  static constexpr auto bare_tables(std::index_sequence<N...>) {
    return std::array{bare_table(List<Carried<N>>{})...};  // [size][queue]
  }
  template <class... Qs, class Tables>
  void add_sized(TypeList<Qs...>, const Tables& tables) {
    std::size_t k = 0;
    const auto sized = [&](QueueEntry& e) {
      for (std::size_t j = 0; j < tables.size(); ++j)
        e.bare_sized[j] = tables[j][k];
      ++k;
    };
    ((add<Qs>(), sized(entries_.back())), ...);
  }

 public:
  [[nodiscard]] const std::vector<QueueEntry>& entries() const { return entries_; }
  [[nodiscard]] const QueueEntry* find(std::string_view name) const;
  // Throws std::invalid_argument unless `name` can be given to --queue: letters, digits and
  // `_ + - . :` only (a comma separates queues in a list).
  static void check_name(std::string_view name);
  // The registered name closest to `name` (edit distance), for "did you mean".
  [[nodiscard]] std::string nearest(std::string_view name) const;

 private:
  std::vector<QueueEntry> entries_;
};

// Every queue of queues/all_queues.hpp, instantiated for qb::Item.
const Registry& default_registry();

}  // namespace qb
