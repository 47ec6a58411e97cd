// The registry's groups (queues/all_queues.hpp), one translation unit each.
#pragma once

#include "harness/registry.hpp"

namespace qb {

void add_blocking_queues(Registry& reg);
void add_polling_queues(Registry& reg);
void add_library_queues(Registry& reg);
void add_ring_queues(Registry& reg);
void add_structured_queues(Registry& reg);

}  // namespace qb
