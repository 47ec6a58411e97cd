// The tree workload (fork/join): producers flood roots; a consumer that takes a node spawns its
// `fanout` children first (so that idle workers can take them), then does the node's work. A
// run is finished when every node of every accepted root has run.
//
// Children go through the consumer's own handle when it can push (ws_pool: into the worker's own
// deque), otherwise through a producer handle of its own (central queues: back into the shared
// queue). A child a full queue refuses runs inline in the spawning consumer (counted as
// inline_nodes), so a bounded central queue cannot deadlock the tree. Node ids and the checksum
// of a tree are in core/item.hpp; verification is the engine's, over nodes instead of items.
#pragma once

#include <optional>
#include <vector>

#include "harness/engine.hpp"

namespace qb {

namespace engine_detail {

// How a consumer pushes the children of a tree node.
template <class H>
struct HandleRef {
  H* h;
  bool try_push(const Item& v) { return h->try_push(v); }
};
template <class Q, class H>
auto child_pusher(Q& q, H& consumer, std::size_t producer_index) {
  if constexpr (requires(const Item& v) {
                  { consumer.try_push(v) } -> std::same_as<bool>;
                }) {
    (void)q;
    (void)producer_index;
    return HandleRef<H>{&consumer};
  } else {
    return producer_handle(q, producer_index);
  }
}

template <class Q>
void tree_consumer_loop(Shared<Q>& s, std::size_t index) {
  auto& slot = s.consumers[index];
  auto handle = consumer_handle(s.queue, index);
  const RunConfig& cfg = s.cfg;
  ServiceTime service = consumer_service(cfg, index);
  const bool serve = cfg.service != ServiceDist::none;
  const std::uint64_t fanout = cfg.fanout;
  const std::uint64_t nodes = cfg.nodes_per_root();
  // Children the queue refused (full) run here, depth first: at most depth*(fanout-1)+1 wait at
  // once, so the stack never reallocates.
  std::vector<Item> local;
  local.reserve(cfg.depth * cfg.fanout + 1);
  auto pusher = child_pusher(s.queue, handle, cfg.producers + index);

  const std::int64_t t0 = s.start.wait(cpu_of(s.pin.consumer_cpu, index));
  const CpuUsage cpu0 = thread_cpu();
  ItemClock clock(slot, cfg, t0);
  const Shutdown shutdown = cfg.shutdown;
  const auto poll = cfg.poll_interval;
  std::uint64_t n = 0;
  Item item;
  for (;;) {
    if (!local.empty()) {
      item = local.back();
      local.pop_back();
    } else if (!pop_next(s, handle, item, shutdown, poll, nullptr, 0)) {  // published per node
      break;
    }
    const std::int64_t now = clock.taken(item);
    // Fork: children go out before this node's own work, so idle workers can take them.
    const std::uint64_t node = tree_node(item.id);
    const std::uint64_t first = node * fanout + 1;
    if (first < nodes) {
      const std::uint64_t root = item.id - node;
      for (std::uint64_t c = 0; c < fanout; ++c) {
        const Item child{root | (first + c), now, now};
        if (!pusher.try_push(child)) {
          local.push_back(child);
          ++slot.inline_nodes;
        }
      }
    }
    slot.checksum.mixed += mix_id(item.id);
    if (serve) service.serve();
    slot.consumed.store(++n, std::memory_order_relaxed);
    if (s.stop.load(std::memory_order_relaxed)) break;
  }
  consumer_exit(slot, n, clock, cpu0);
}

// Roots flood in; consumers push too (children), each through a producer slot of its own.
struct TreeWork {
  static constexpr bool tree = true;
  using Ids = TreeRoots;
  static std::uint64_t units_per_item(const RunConfig& cfg) { return cfg.nodes_per_root(); }
  static std::size_t extra_producers(const RunConfig& cfg) { return cfg.consumers; }
  template <class Q>
  static void consume(Shared<Q>& s, std::size_t index) {
    tree_consumer_loop(s, index);
  }
};

}  // namespace engine_detail

// Runs one tree configuration on queue type Q (roots arrive as a flood).
template <class Q>
RunResult run_tree(const RunConfig& cfg) {
  return engine_detail::run_workload<Q, FloodSchedule, engine_detail::TreeWork>(cfg);
}

}  // namespace qb
