// Registers queues/all_queues.hpp's RingQueues (see harness/registry_groups.hpp).
#include "harness/registry_groups.hpp"
#include "queues/all_queues.hpp"

namespace qb {

void add_ring_queues(Registry& reg) {
  reg.add_group<RingQueues>();
}

}  // namespace qb
