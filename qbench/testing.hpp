// The conformance kit: qbench's own contract, stress and close-race suites for your queues.
//
//   #include <qbench/testing.hpp>
//   #include "my_queue.hpp"
//   QBENCH_CONFORMANCE(MyQueues, MyQueue, qb::Waiting<MyTryQueue, qb::Park<>>)
//
// and in CMake `qbench_add_conformance_test(my_queue_conformance my_queue_test.cpp)` (links
// GoogleTest's main, registers every test with CTest). Each queue (value_type qb::Item, as
// QBENCH_MAIN registers it) is checked against what its traits declare: bound, order (fifo,
// per-producer, per-key), timed waits, close (wakes waiters, drains, refuses, exactly once while
// producers race it), and under stress in every producer x consumer shape its traits allow,
// oversubscribed included. A failure names the property (the test's name, or LOST / DUPLICATED /
// ORDER / CHECKSUM / CLOSE in the message) and the shape; a queue that hangs is reported as such
// and the test process exits instead of hanging. qbench runs the same suites on every built-in
// queue (tests/queue_contract_test.cpp, tests/queue_stress_test.cpp).
#pragma once

#include "qbench/testing/contract.hpp"
#include "qbench/testing/stress.hpp"
#include "qbench/testing/support.hpp"

// Instantiates the contract, stress and close-race suites for the listed queue types; `prefix`
// names this instantiation in the test names (prefix/QueueContract/queue_name.Property).
#define QBENCH_CONFORMANCE(prefix, ...)                                                \
  namespace qb::conformance {                                                          \
  using prefix##_queues = ::testing::Types<__VA_ARGS__>;                               \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, QueueContract, prefix##_queues, QueueNames);  \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, QueueStress, prefix##_queues, QueueNames);    \
  INSTANTIATE_TYPED_TEST_SUITE_P(prefix, QueueCloseRace, prefix##_queues, QueueNames); \
  }
