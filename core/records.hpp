// What the harness measures about the machine's resources for a run, as plain records.
// Standard library only.
#pragma once

#include <cstdint>

namespace qb {

// CPU time and context switches (getrusage RUSAGE_THREAD deltas, summed over threads).
struct CpuUsage {
  double user_s = 0;
  double sys_s = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  [[nodiscard]] double total_s() const { return user_s + sys_s; }
  CpuUsage& operator+=(const CpuUsage& o) {
    user_s += o.user_s;
    sys_s += o.sys_s;
    voluntary_switches += o.voluntary_switches;
    involuntary_switches += o.involuntary_switches;
    return *this;
  }
};

}  // namespace qb
