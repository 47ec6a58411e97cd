// What the harness reads from the operating system: the run context, memory of this process,
// per-thread CPU usage and the clock.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "core/records.hpp"
#include "harness/clock.hpp"
#include "results/context.hpp"

namespace qb {

// CPU time of the calling thread, in ns (a system call, ~0.2-1 us: not for per-item use).
inline std::int64_t thread_cpu_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// CPU usage of the calling thread so far.
inline CpuUsage thread_cpu() noexcept {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  CpuUsage c;
  c.user_s = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec * 1e-6;
  c.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec * 1e-6;
  c.voluntary_switches = static_cast<std::uint64_t>(ru.ru_nvcsw);
  c.involuntary_switches = static_cast<std::uint64_t>(ru.ru_nivcsw);
  return c;
}

inline CpuUsage operator-(const CpuUsage& a, const CpuUsage& b) {
  return CpuUsage{a.user_s - b.user_s, a.sys_s - b.sys_s,
                  a.voluntary_switches - b.voluntary_switches,
                  a.involuntary_switches - b.involuntary_switches};
}

// Resident set size now, from /proc/self/statm (a few microseconds).
std::uint64_t current_rss_bytes();
// Resets the peak RSS (VmHWM) to the current RSS: `echo 5 > /proc/self/clear_refs`.
// False when the kernel refuses; the peak is then reported blank.
bool reset_peak_rss();
// VmHWM from /proc/self/status.
std::optional<std::uint64_t> peak_rss_bytes();

struct RunResult;  // results/run_result.hpp

// One run's memory, apart from what earlier runs left in the process. Opened before the run
// allocates anything: returns the allocator's free memory to the kernel (malloc_trim, every
// arena), takes the resident set as the baseline and resets the peak; closed after the run, it
// fills the run's rss_baseline, rss_after and peak_rss. Without the trim, memory that earlier
// runs freed stays resident and a run's peak grows with its position in the matrix.
class RssWindow {
 public:
  RssWindow();
  void close(RunResult& r) const;

 private:
  std::uint64_t baseline_;
  bool peak_reset_;
};
// Physical memory of the machine.
std::uint64_t physical_memory_bytes();
unsigned online_cores();

// The cost of one now_ns() read: the median of 7 batches of 20,000 reads.
double measure_clock_cost_ns();
// Gathers the context once per invocation (measures the clock cost, reads /proc/cpuinfo, ...).
RunContext gather_context();
// The current UTC time formatted by strftime (`fmt`, e.g. "%Y-%m-%dT%H:%M:%SZ").
std::string utc_now(const char* fmt);

}  // namespace qb
