// The CPU topology, from sysfs: which allowed CPUs are SMT siblings of one core, which cores share
// a package (socket), which NUMA node each CPU belongs to. Placements of producer/consumer pairs
// are built on it (same core, same socket, across sockets), so that a run says where its threads
// were and a user with 16 to 128 cores on several sockets can ask for the case they care about.
// Read once per command, never on a hot path. Tests read fake sysfs trees (tests/topology_test).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/kinds.hpp"
#include "harness/affinity.hpp"

namespace qb {

struct CpuPlace {
  unsigned cpu = 0;
  unsigned package = 0;  // topology/physical_package_id
  unsigned core = 0;     // topology/core_id (unique within its package)
  unsigned node = 0;     // the NUMA node whose cpulist holds it (0 without node/)
};

struct Topology {
  std::vector<CpuPlace> cpus;  // the allowed CPUs, by CPU number

  [[nodiscard]] std::size_t packages() const;
  [[nodiscard]] std::size_t cores() const;  // distinct (package, core) pairs
  [[nodiscard]] std::size_t nodes() const;
  // "2 packages 8 cores 16 CPUs 2 nodes" (no commas: it goes into a CSV field as is).
  [[nodiscard]] std::string describe() const;
};

// Reads `root`/cpu/cpuN/topology and `root`/node/nodeM/cpulist for the CPUs in `allowed` (root is
// /sys/devices/system on Linux). A CPU whose topology files are missing counts as a core and a
// package of its own number (a VM may hide them): placements then refuse what they cannot know.
Topology read_topology(const std::string& root, const std::vector<unsigned>& allowed);
// The running machine: /sys/devices/system and allowed_cpus().
Topology machine_topology();

// A placement the machine cannot offer: the message names it and what the machine has.
struct PlacementError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Producer i and consumer i form pair i; pairs go to distinct CPU pairs of the placement while
// there are enough, then round-robin (oversubscribed). With P != C the side that has more
// threads takes its extra ones round-robin over its side's CPUs. Throws PlacementError.
PinPlan plan_placement(std::size_t producers, std::size_t consumers, const Topology& topo,
                       Placement placement);

}  // namespace qb
