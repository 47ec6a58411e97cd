#include "harness/affinity.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "harness/system_info.hpp"

namespace qb {

namespace {

// Dynamically sized CPU sets (CPU_ALLOC): machines with more than CPU_SETSIZE (1024) CPUs exist,
// and sched_getaffinity fails with EINVAL when the set is smaller than the kernel's.
struct CpuSetFree {
  void operator()(cpu_set_t* s) const noexcept { CPU_FREE(s); }
};
using CpuSet = std::unique_ptr<cpu_set_t, CpuSetFree>;

// Larger numbers are no CPU on any Linux (NR_CPUS is at most 8192 today); refusing them keeps
// CPU_ALLOC small.
constexpr unsigned max_cpu_number = 65535;

}  // namespace

std::vector<unsigned> allowed_cpus() {
  std::vector<unsigned> cpus;
  for (unsigned n = 1024; n <= 1u << 20 && cpus.empty(); n *= 2) {
    CpuSet set(CPU_ALLOC(n));
    if (!set) break;
    const std::size_t size = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(size, set.get());
    // getpid(), not 0: the main thread's mask, the one the process got from taskset or its
    // cpuset; a thread that has pinned itself still learns every CPU the process may use.
    if (sched_getaffinity(getpid(), size, set.get()) != 0) {
      if (errno == EINVAL) continue;  // the kernel's mask is larger: try a larger set
      break;
    }
    for (unsigned cpu = 0; cpu < n; ++cpu)
      if (CPU_ISSET_S(cpu, size, set.get())) cpus.push_back(cpu);
    break;
  }
  if (cpus.empty()) {
    for (unsigned cpu = 0; cpu < online_cores(); ++cpu)
      cpus.push_back(cpu);
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

bool pin_current_thread(unsigned cpu, std::string* error) {
  const std::string what = "pinning the thread to CPU " + std::to_string(cpu) + " failed: ";
  if (cpu > max_cpu_number) {
    if (error)
      *error = what + "no such CPU (numbers go up to " + std::to_string(max_cpu_number) + ")";
    return false;
  }
  CpuSet set(CPU_ALLOC(cpu + 1));
  if (!set) {
    if (error) *error = what + "out of memory";
    return false;
  }
  const std::size_t size = CPU_ALLOC_SIZE(cpu + 1);
  CPU_ZERO_S(size, set.get());
  CPU_SET_S(cpu, size, set.get());
  // pthread_setaffinity_np returns the error number instead of setting errno.
  const int rc = pthread_setaffinity_np(pthread_self(), size, set.get());
  if (rc != 0) {
    if (error) *error = what + std::strerror(rc);
    return false;
  }
  return true;
}

PinPlan plan_pinning(std::size_t producers, std::size_t consumers,
                     const std::vector<unsigned>& cpus) {
  if (cpus.empty()) throw std::invalid_argument("plan_pinning: no CPU to pin to");
  PinPlan plan;
  plan.producer_cpu.reserve(producers);
  plan.consumer_cpu.reserve(consumers);
  std::size_t k = 0;  // position in the interleaved order p0 c0 p1 c1 ...
  for (std::size_t i = 0; i < std::max(producers, consumers); ++i) {
    if (i < producers) plan.producer_cpu.push_back(cpus[k++ % cpus.size()]);
    if (i < consumers) plan.consumer_cpu.push_back(cpus[k++ % cpus.size()]);
  }
  plan.oversubscribed = producers + consumers > cpus.size();
  return plan;
}

std::string describe(const PinPlan& plan) {
  std::string s;
  const auto add = [&s](char side, std::size_t i, unsigned cpu) {
    if (!s.empty()) s += ' ';
    s += side;
    s += std::to_string(i);
    s += ':';
    s += std::to_string(cpu);
  };
  const std::size_t p = plan.producer_cpu.size();
  const std::size_t c = plan.consumer_cpu.size();
  for (std::size_t i = 0; i < std::max(p, c); ++i) {
    if (i < p) add('p', i, plan.producer_cpu[i]);
    if (i < c) add('c', i, plan.consumer_cpu[i]);
  }
  return s;
}

}  // namespace qb
