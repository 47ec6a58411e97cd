// The queue contract (docs/DESIGN.md section 2) on every built-in queue: the conformance kit's
// suite (qbench/testing/contract.hpp), which users run on their own queues too.
#include "builtin_queues.hpp"
#include "qbench/testing/contract.hpp"

namespace qb::conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(BuiltIn, QueueContract, BuiltInQueues, QueueNames);
}  // namespace qb::conformance
