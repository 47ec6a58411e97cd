// Registers queues/all_queues.hpp's PollingQueues (see harness/registry_groups.hpp).
#include "harness/registry_groups.hpp"
#include "queues/all_queues.hpp"

namespace qb {

void add_polling_queues(Registry& reg) {
  reg.add_group<PollingQueues>();
}

}  // namespace qb
