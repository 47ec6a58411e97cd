// The registry: every runnable queue by name, with its traits and its run function. Types are
// erased here, once per run; the loops inside run_engine stay templates per queue and schedule.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/run_config.hpp"
#include "harness/bare.hpp"
#include "harness/engine.hpp"
#include "harness/pingpong.hpp"
#include "harness/tree.hpp"
#include "queues/concept.hpp"
#include "results/run_result.hpp"

namespace qb {

struct QueueEntry {
  std::string_view name;
  QueueTraits traits;
  RunResult (*run)(const RunConfig&);
  BareResult (*bare)(const BareConfig&);  // its bare reference (harness/bare.hpp)
  std::string_view bare_of;               // the queue that reference drives (shared by strategies)
  bool user = false;  // registered by a user's benchmark binary, not built into qbench
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
    entries_.push_back(QueueEntry{Q::name, Q::traits, &run_queue<Q>, &run_bare<Q>,
                                  bare_detail::Target<Q>::type::name, user});
  }
  template <class... Qs>
  void add_all(TypeList<Qs...>) {
    (add<Qs>(), ...);
  }

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
