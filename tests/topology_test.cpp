// The CPU topology read from sysfs, and the placements built on it, on fake sysfs trees: a
// two-socket machine with SMT (2 packages x 4 cores x 2 threads, 2 NUMA nodes, numbered as Linux
// numbers Intel CPUs: the second threads after all the first ones) and this 2-core VM (1 package,
// 2 cores, no SMT); then the real /sys of the machine the tests run on.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness/topology.hpp"
#include "tests/file_support.hpp"

namespace qb {
namespace {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
 protected:
  void write(const fs::path& path, const std::string& text) const {
    fs::create_directories((root_ / path).parent_path());
    std::ofstream(root_ / path) << text << "\n";
  }
  void cpu(unsigned n, unsigned package, unsigned core) const {
    const fs::path dir = fs::path("cpu") / ("cpu" + std::to_string(n)) / "topology";
    write(dir / "physical_package_id", std::to_string(package));
    write(dir / "core_id", std::to_string(core));
  }
  // 2 packages x 4 cores x 2 threads: cpu0-3 package 0, cpu4-7 package 1, cpu8-15 their siblings.
  void two_socket_smt() const {
    for (unsigned t = 0; t < 2; ++t)
      for (unsigned p = 0; p < 2; ++p)
        for (unsigned c = 0; c < 4; ++c)
          cpu(t * 8 + p * 4 + c, p, c);
    write("node/node0/cpulist", "0-3,8-11");
    write("node/node1/cpulist", "4-7,12-15");
  }
  // This VM: 2 cores of one package, no SMT, one node.
  void two_core_vm() const {
    cpu(0, 0, 0);
    cpu(1, 0, 1);
    write("node/node0/cpulist", "0-1");
  }
  [[nodiscard]] Topology read(const std::vector<unsigned>& allowed) const {
    return read_topology(root_.string(), allowed);
  }
  static std::vector<unsigned> upto(unsigned n) {
    std::vector<unsigned> v;
    for (unsigned i = 0; i < n; ++i)
      v.push_back(i);
    return v;
  }
  test::ScratchDir scratch_{"qb_topology_test"};
  fs::path root_ = scratch_.path();
};

TEST_F(FakeSysfs, ReadsPackagesCoresThreadsAndNodes) {
  two_socket_smt();
  const Topology t = read(upto(16));
  ASSERT_EQ(t.cpus.size(), 16u);
  EXPECT_EQ(t.packages(), 2u);
  EXPECT_EQ(t.cores(), 8u);
  EXPECT_EQ(t.nodes(), 2u);
  EXPECT_EQ(t.describe(), "2 packages 8 cores 16 CPUs 2 nodes");
  EXPECT_EQ(t.cpus[13].package, 1u);
  EXPECT_EQ(t.cpus[13].core, 1u);
  EXPECT_EQ(t.cpus[13].node, 1u);
}

TEST_F(FakeSysfs, OnlyTheAllowedCpusCount) {
  two_socket_smt();
  const Topology t = read({0, 1, 2, 3});  // taskset to package 0, first threads
  EXPECT_EQ(t.describe(), "1 package 4 cores 4 CPUs 1 node");
}

TEST_F(FakeSysfs, SameCorePairsTheSmtSiblings) {
  two_socket_smt();
  const PinPlan p = plan_placement(2, 2, read(upto(16)), Placement::same_core);
  EXPECT_EQ(p.producer_cpu, (std::vector<unsigned>{0, 1}));
  EXPECT_EQ(p.consumer_cpu, (std::vector<unsigned>{8, 9}));
  EXPECT_FALSE(p.oversubscribed);
}

TEST_F(FakeSysfs, SameSocketPairsTwoCoresOfOnePackageNeverSiblings) {
  two_socket_smt();
  const Topology t = read(upto(16));
  const PinPlan p = plan_placement(4, 4, t, Placement::same_socket);
  for (std::size_t i = 0; i < 4; ++i) {
    const CpuPlace& a = t.cpus[p.producer_cpu[i]];
    const CpuPlace& b = t.cpus[p.consumer_cpu[i]];
    EXPECT_EQ(a.package, b.package) << i;
    EXPECT_NE(a.core, b.core) << i;
  }
  EXPECT_EQ(describe(p), "p0:0 c0:1 p1:2 c1:3 p2:4 c2:5 p3:6 c3:7");
}

TEST_F(FakeSysfs, CrossSocketPairsCoreKOfOnePackageWithCoreKOfTheOther) {
  two_socket_smt();
  const Topology t = read(upto(16));
  const PinPlan p = plan_placement(1, 1, t, Placement::cross_socket);
  EXPECT_EQ(describe(p), "p0:0 c0:4");
  // More pairs than the 4 cross pairs: round-robin, and said so.
  const PinPlan q = plan_placement(6, 6, t, Placement::cross_socket);
  EXPECT_EQ(q.producer_cpu[4], 0u);
  EXPECT_EQ(q.consumer_cpu[5], 5u);
  EXPECT_TRUE(q.oversubscribed);
}

TEST_F(FakeSysfs, UnequalSidesTakeTheirExtraThreadsRoundRobin) {
  two_socket_smt();
  const PinPlan p = plan_placement(3, 1, read(upto(16)), Placement::same_core);
  EXPECT_EQ(describe(p), "p0:0 c0:8 p1:1 p2:2");
}

TEST_F(FakeSysfs, ThisVmOffersSpreadAndSameSocketAndRefusesTheRest) {
  two_core_vm();
  const Topology t = read(upto(2));
  EXPECT_EQ(t.describe(), "1 package 2 cores 2 CPUs 1 node");
  EXPECT_EQ(describe(plan_placement(1, 1, t, Placement::spread)), "p0:0 c0:1");
  EXPECT_EQ(describe(plan_placement(1, 1, t, Placement::same_socket)), "p0:0 c0:1");
  for (Placement refused : {Placement::same_core, Placement::cross_socket}) {
    try {
      plan_placement(1, 1, t, refused);
      ADD_FAILURE() << to_string(refused) << " was not refused";
    } catch (const PlacementError& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind(std::string(to_string(refused)) + ": the allowed CPUs have no ", 0), 0u)
          << m;
      EXPECT_NE(m.find("1 package 2 cores 2 CPUs 1 node"), std::string::npos) << m;
      EXPECT_NE(m.find("placements here: spread, same-socket"), std::string::npos) << m;
    }
  }
}

TEST_F(FakeSysfs, MissingTopologyFilesAreCoresOfTheirOwn) {
  write("cpu/cpu0/online", "1");  // a VM that hides topology/
  const Topology t = read({0, 1});
  EXPECT_EQ(t.cores(), 2u);
  EXPECT_EQ(t.packages(), 2u);
  EXPECT_THROW(plan_placement(1, 1, t, Placement::same_socket), PlacementError);
  EXPECT_EQ(describe(plan_placement(1, 1, t, Placement::spread)), "p0:0 c0:1");
}

TEST(MachineTopology, CoversExactlyTheAllowedCpus) {
  const Topology t = machine_topology();
  std::vector<unsigned> cpus;
  for (const auto& c : t.cpus)
    cpus.push_back(c.cpu);
  EXPECT_EQ(cpus, allowed_cpus());
  EXPECT_GE(t.cores(), 1u);
  EXPECT_GE(t.packages(), 1u);
}

}  // namespace
}  // namespace qb
