// The registry: every runnable queue by name, with its traits and its run function. Types are
// erased here, once per run; the loops inside run_engine stay templates per queue and schedule.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
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

// "8, 16, 24, 64 or 256" (a sanitizer build: "8, 24 or 256"): the sizes a built-in queue carries,
// for help and error messages; `annotated` says what the pointer-sized and Item-sized ones are.
inline std::string item_sizes_text(bool annotated = false) {
  std::string s;
  for (std::size_t i = 0; i < item_sizes.size(); ++i) {
    s += (i ? (i + 1 == item_sizes.size() ? " or " : ", ") : "") + std::to_string(item_sizes[i]);
    if (annotated && item_sizes[i] == sizeof(void*)) s += " (a task pointer)";
    if (annotated && item_sizes[i] == sizeof(Item))
      s += " (the id and the two times latency needs)";
  }
  return s;
}
// Why a queue does not carry other sizes (QueueEntry::carries is false).
inline std::string only_item_sized() {
  return "built for " + std::to_string(sizeof(Item)) +
         "-byte items only (a queue your binary registers carries qb::Item)";
}

using RunFn = RunResult (*)(const RunConfig&);
using BareFn = BareResult (*)(const BareConfig&);

// Queue Q (built for one item type) run with a workload: every workload for qb::Item; flood and
// pingpong for the other sizes (Payload<N>: the size of what a user's queue carries).
template <class Q>
RunResult run_queue(const RunConfig& cfg) {
  if constexpr (std::is_same_v<typename Q::value_type, Item>) {
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
  } else {
    if (cfg.workload == WorkloadKind::pingpong) return run_pingpong<Q>(cfg);
    if (cfg.workload != WorkloadKind::flood)
      throw std::invalid_argument("run_queue: items of other sizes run flood and pingpong only");
    RunConfig c = cfg;
    if constexpr (!Stamped<typename Q::value_type>) c.record_latency = false;  // no room for times
    return run_engine<Q, FloodSchedule>(c);
  }
}

struct QueueEntry {
  std::string_view name;
  QueueTraits traits;
  std::string_view bare_of;  // the queue its bare reference drives (shared by strategies)
  bool user = false;         // registered by a user's benchmark binary, not built into qbench
  // The queue built for each of item_sizes: its runs and its bare reference (harness/bare.hpp);
  // null where not built (a queue your binary registers is built for qb::Item alone).
  struct Built {
    RunFn run = nullptr;
    BareFn bare = nullptr;
  };
  std::array<Built, item_sizes.size()> sized{};

  [[nodiscard]] bool carries(std::size_t item_bytes) const noexcept {
    const std::size_t i = item_size_index(item_bytes);
    return i < sized.size() && sized[i].run != nullptr;
  }
  // A run (cfg.item_bytes per item; carries() must hold for it).
  [[nodiscard]] RunResult run(const RunConfig& cfg) const {
    return sized[item_size_index(cfg.item_bytes)].run(cfg);
  }
  // The bare reference carrying cfg.item_bytes per item; carries(cfg.item_bytes) must hold.
  [[nodiscard]] BareResult bare(const BareConfig& cfg) const {
    return sized[item_size_index(cfg.item_bytes)].bare(cfg);
  }
};

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
    entries_.push_back(QueueEntry{Q::name, Q::traits, bare_detail::Target<Q>::type::name, user});
    entries_.back().sized[item_size_index(sizeof(Item))] = {&run_queue<Q>, &run_bare<Q>};
  }
  template <class... Qs>
  void add_all(TypeList<Qs...>) {
    (add<Qs>(), ...);
  }
  // A group of queues/all_queues.hpp (List<Item>), built for every item size (List<Carried<N>>:
  // the same queues carrying N bytes).
  template <template <class> class List>
  void add_group() {
    add_sized(List<Item>{}, built_tables<List>(ItemSizes{}));
  }

 private:
  template <class... Qs>
  static constexpr std::array<QueueEntry::Built, sizeof...(Qs)> built_table(TypeList<Qs...>) {
    return {QueueEntry::Built{&run_queue<Qs>, &run_bare<Qs>}...};
  }
  template <template <class> class List, std::size_t... N>
  static constexpr auto built_tables(std::index_sequence<N...>) {
    return std::array{built_table(List<Carried<N>>{})...};  // [size][queue]
  }
  template <class... Qs, class Tables>
  void add_sized(TypeList<Qs...>, const Tables& tables) {
    std::size_t k = 0;
    const auto sized = [&](QueueEntry& e) {
      for (std::size_t j = 0; j < tables.size(); ++j)
        e.sized[j] = tables[j][k];
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
