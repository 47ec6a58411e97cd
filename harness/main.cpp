// qbench: the command line over the built-in queues (harness/app.cpp).
#include "harness/app.hpp"
#include "harness/registry.hpp"

int main(int argc, char** argv) {
  return qb::qbench_main(argc, argv, qb::default_registry());
}
