// Stress and the close race on every built-in queue: the conformance kit's suites
// (qbench/testing/stress.hpp), which users run on their own queues too.
#include "builtin_queues.hpp"
#include "qbench/testing/stress.hpp"

namespace qb::conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(BuiltIn, QueueStress, BuiltInQueues, QueueNames);
INSTANTIATE_TYPED_TEST_SUITE_P(BuiltIn, QueueCloseRace, BuiltInQueues, QueueNames);
}  // namespace qb::conformance
