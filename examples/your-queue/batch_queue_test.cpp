// batch_cv against qbench's conformance kit: the contract, stress in every shape its traits
// allow (oversubscribed included) and the close race. `ctest` in the build directory runs it.
#include <qbench/testing.hpp>

#include "batch_queue.hpp"

QBENCH_CONFORMANCE(YourQueue, BatchQueue<qb::Item>);
