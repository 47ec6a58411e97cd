// The one header a user's benchmark binary includes (installed as <qbench/qbench.hpp>): the
// queue contract and traits, the wait strategies and qb::Waiting<>, every built-in queue, and
// QBENCH_MAIN, which registers your queues beside the built-ins and gives the binary qbench's
// whole command line. docs/your-queue.md is the guide.
#pragma once

#include "core/item.hpp"
#include "harness/user_main.hpp"
#include "queues/all_queues.hpp"
#include "queues/concept.hpp"
#include "queues/wait_strategies.hpp"
