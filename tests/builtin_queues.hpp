// The built-in queues the conformance kit's suites run on: one group of queues/all_queues.hpp
// per executable (CMakeLists.txt defines QB_TEST_GROUP), so that the groups compile in parallel.
#pragma once

#include "qbench/testing/support.hpp"
#include "queues/all_queues.hpp"

namespace qb::conformance {
#if defined(QB_TEST_GROUP)
using BuiltInQueues = TypesOf<QB_TEST_GROUP<Item>>::type;
#else
using BuiltInQueues = TypesOf<AllQueues<Item>>::type;
#endif
}  // namespace qb::conformance
