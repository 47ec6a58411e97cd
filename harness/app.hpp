// The whole qbench command line (list, run, compare, suite, calibrate, bare, columns) over a
// registry of queues: qbench's own main passes the built-in queues, a user's benchmark binary
// passes the built-ins plus its own (harness/user_main.hpp).
#pragma once

#include "harness/registry.hpp"

namespace qb {

// Parses argv, runs the subcommand and returns the process's exit code (2 for bad input).
int qbench_main(int argc, char** argv, const Registry& registry);

}  // namespace qb
