// Registers queues/all_queues.hpp's LibraryQueues (see harness/registry_groups.hpp).
#include "harness/registry_groups.hpp"
#include "queues/all_queues.hpp"

namespace qb {

void add_library_queues(Registry& reg) {
  reg.add_group<LibraryQueues>();
}

}  // namespace qb
