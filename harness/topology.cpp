#include "harness/topology.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/units.hpp"

namespace qb {

namespace {

std::optional<unsigned> read_number(const std::string& path) {
  std::ifstream f(path);
  long v = -1;
  if (!(f >> v) || v < 0) return std::nullopt;
  return static_cast<unsigned>(v);
}

// A sysfs CPU list: "0-3,8,10-11".
std::vector<unsigned> read_cpulist(const std::string& path) {
  std::ifstream f(path);
  std::string text;
  std::getline(f, text);
  std::vector<unsigned> cpus;
  for (const std::string& part : units::split_list(text)) {
    const auto dash = part.find('-');
    try {
      const unsigned lo = static_cast<unsigned>(std::stoul(part.substr(0, dash)));
      const unsigned hi =
          dash == std::string::npos ? lo : static_cast<unsigned>(std::stoul(part.substr(dash + 1)));
      for (unsigned c = lo; c <= hi && c - lo < 65536; ++c)
        cpus.push_back(c);
    } catch (const std::exception&) {
      // not a number: skip the part
    }
  }
  return cpus;
}

std::string plural(std::size_t n, const char* one) {
  return std::to_string(n) + " " + one + (n == 1 ? "" : "s");
}

// The first CPU of each core, per package, in CPU order.
std::map<unsigned, std::vector<const CpuPlace*>> first_threads_by_package(const Topology& t) {
  std::map<unsigned, std::vector<const CpuPlace*>> by_package;
  std::set<std::pair<unsigned, unsigned>> seen;
  for (const auto& c : t.cpus)
    if (seen.insert({c.package, c.core}).second) by_package[c.package].push_back(&c);
  return by_package;
}

using CpuPair = std::pair<unsigned, unsigned>;

std::vector<CpuPair> pairs_for(const Topology& t, Placement placement) {
  std::vector<CpuPair> pairs;
  switch (placement) {
    case Placement::spread:
      break;
    case Placement::same_core: {
      std::map<std::pair<unsigned, unsigned>, std::vector<unsigned>> threads;
      for (const auto& c : t.cpus)
        threads[{c.package, c.core}].push_back(c.cpu);
      for (const auto& [core, cpus] : threads)
        if (cpus.size() >= 2) pairs.emplace_back(cpus[0], cpus[1]);
      break;
    }
    case Placement::same_socket:
      for (const auto& [package, cores] : first_threads_by_package(t))
        for (std::size_t i = 0; i + 1 < cores.size(); i += 2)
          pairs.emplace_back(cores[i]->cpu, cores[i + 1]->cpu);
      break;
    case Placement::cross_socket: {
      const auto by_package = first_threads_by_package(t);
      if (by_package.size() < 2) break;
      // Packages in pairs (0 with 1, 2 with 3, ...), core k of one with core k of the other.
      std::vector<const std::vector<const CpuPlace*>*> packages;
      for (const auto& [package, cores] : by_package)
        packages.push_back(&cores);
      for (std::size_t p = 0; p + 1 < packages.size(); p += 2)
        for (std::size_t k = 0; k < std::min(packages[p]->size(), packages[p + 1]->size()); ++k)
          pairs.emplace_back((*packages[p])[k]->cpu, (*packages[p + 1])[k]->cpu);
      break;
    }
  }
  return pairs;
}

}  // namespace

std::size_t Topology::packages() const {
  std::set<unsigned> s;
  for (const auto& c : cpus)
    s.insert(c.package);
  return s.size();
}

std::size_t Topology::cores() const {
  std::set<std::pair<unsigned, unsigned>> s;
  for (const auto& c : cpus)
    s.insert({c.package, c.core});
  return s.size();
}

std::size_t Topology::nodes() const {
  std::set<unsigned> s;
  for (const auto& c : cpus)
    s.insert(c.node);
  return s.size();
}

std::string Topology::describe() const {
  return plural(packages(), "package") + " " + plural(cores(), "core") + " " +
         plural(cpus.size(), "CPU") + " " + plural(nodes(), "node");
}

Topology read_topology(const std::string& root, const std::vector<unsigned>& allowed) {
  std::map<unsigned, unsigned> node_of;
  for (unsigned n = 0; n < 1024; ++n) {
    const std::string dir = root + "/node/node" + std::to_string(n);
    if (!std::ifstream(dir + "/cpulist")) {
      if (n > 64) break;  // node numbers may have gaps; 64 misses in a row is the end
      continue;
    }
    for (unsigned cpu : read_cpulist(dir + "/cpulist"))
      node_of.emplace(cpu, n);
  }
  Topology t;
  for (unsigned cpu : allowed) {
    const std::string dir = root + "/cpu/cpu" + std::to_string(cpu) + "/topology/";
    CpuPlace p;
    p.cpu = cpu;
    const auto package = read_number(dir + "physical_package_id");
    const auto core = read_number(dir + "core_id");
    // Unknown: a package and a core of its own (nothing shared that we cannot see).
    p.package = package ? *package : 100000 + cpu;
    p.core = core ? *core : cpu;
    const auto node = node_of.find(cpu);
    p.node = node == node_of.end() ? 0 : node->second;
    t.cpus.push_back(p);
  }
  std::sort(t.cpus.begin(), t.cpus.end(),
            [](const CpuPlace& a, const CpuPlace& b) { return a.cpu < b.cpu; });
  return t;
}

Topology machine_topology() {
  return read_topology("/sys/devices/system", allowed_cpus());
}

PinPlan plan_placement(std::size_t producers, std::size_t consumers, const Topology& topo,
                       Placement placement) {
  if (topo.cpus.empty()) throw PlacementError("no CPU to pin to");
  std::vector<unsigned> all;
  for (const auto& c : topo.cpus)
    all.push_back(c.cpu);
  if (placement == Placement::spread) return plan_pinning(producers, consumers, all);
  const std::vector<CpuPair> pairs = pairs_for(topo, placement);
  if (pairs.empty()) {
    const std::string what = placement == Placement::same_core     ? "two SMT siblings of one core"
                             : placement == Placement::same_socket ? "two cores in one package"
                                                                   : "two packages";
    std::string offered = "spread";
    for (Placement p : {Placement::same_core, Placement::same_socket, Placement::cross_socket})
      if (!pairs_for(topo, p).empty()) offered += ", " + std::string(to_string(p));
    throw PlacementError(std::string(to_string(placement)) + ": the allowed CPUs have no " + what +
                         " (" + topo.describe() + "); placements here: " + offered);
  }
  PinPlan plan;
  for (std::size_t i = 0; i < producers; ++i)
    plan.producer_cpu.push_back(pairs[i % pairs.size()].first);
  for (std::size_t i = 0; i < consumers; ++i)
    plan.consumer_cpu.push_back(pairs[i % pairs.size()].second);
  plan.oversubscribed = std::max(producers, consumers) > pairs.size();
  return plan;
}

}  // namespace qb
