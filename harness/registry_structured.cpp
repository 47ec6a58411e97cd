// Registers queues/all_queues.hpp's StructuredQueues (see harness/registry_groups.hpp).
#include "harness/registry_groups.hpp"
#include "queues/all_queues.hpp"

namespace qb {

void add_structured_queues(Registry& reg) {
  reg.add_group<StructuredQueues>();
}

}  // namespace qb
