// Registers queues/all_queues.hpp's BlockingQueues (see harness/registry_groups.hpp).
#include "harness/registry_groups.hpp"
#include "queues/all_queues.hpp"

namespace qb {

void add_blocking_queues(Registry& reg) {
  reg.add_group<BlockingQueues>();
}

}  // namespace qb
