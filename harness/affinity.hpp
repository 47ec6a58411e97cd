// CPU affinity: which CPUs this process may use, pinning a thread to one of them, and the plan
// that spreads producers and consumers over them. Linux only (sched_getaffinity,
// pthread_setaffinity_np); none of it is on a hot path.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace qb {

// The CPUs this process may run on (sched_getaffinity: the cpuset/taskset mask, not merely the
// online CPUs), sorted ascending. Never empty: if the mask cannot be read, {0..online-1}.
std::vector<unsigned> allowed_cpus();

// Pins the calling thread to `cpu` alone (pthread_setaffinity_np). On failure returns false and,
// if `error` is not null, sets it to one line naming the CPU and the reason (errno text); the
// thread's affinity is then unchanged.
bool pin_current_thread(unsigned cpu, std::string* error);

// Where each worker thread runs. The scheme: threads are taken in the interleaved order
// p0 c0 p1 c1 p2 c2 ... (once one side runs out, the rest of the other side follows in order),
// and the k-th thread of that order gets cpus[k % cpus.size()]. So 1x1 on two CPUs puts the
// producer on cpus[0] and the consumer on cpus[1]; PxP on two CPUs puts every producer on
// cpus[0] and every consumer on cpus[1]; with more threads than CPUs the threads share CPUs
// round-robin (oversubscribed).
struct PinPlan {
  std::vector<unsigned> producer_cpu;  // producer i runs on producer_cpu[i]
  std::vector<unsigned> consumer_cpu;  // consumer i runs on consumer_cpu[i]
  bool oversubscribed = false;         // more threads than CPUs: some threads share a CPU
};

// Throws std::invalid_argument if `cpus` is empty.
PinPlan plan_pinning(std::size_t producers, std::size_t consumers,
                     const std::vector<unsigned>& cpus);

// The plan in the interleaved order, space-separated, e.g. "p0:0 c0:1 p1:0 c1:1": no commas or
// quotes, so it goes into a CSV field as is. Empty for an empty plan.
std::string describe(const PinPlan& plan);

}  // namespace qb
