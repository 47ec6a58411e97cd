#include "harness/system_info.hpp"

#include <malloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "harness/build_info.hpp"
#include "harness/topology.hpp"
#include "results/run_result.hpp"

namespace qb {

std::uint64_t current_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

std::optional<std::uint64_t> peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      unsigned long long kb = 0;
      if (std::sscanf(line.c_str() + 6, "%llu", &kb) == 1) return kb * 1024;
    }
  }
  return std::nullopt;
}

RssWindow::RssWindow() {
  // glibc raises its mmap and trim thresholds after the first large block is freed (up to
  // 32 MiB and 64 MiB), and malloc_trim does not trim the top of a thread's arena: after one run
  // with a deep unbounded queue, the next runs' blocks come from memory that stays resident, and
  // both a run's memory and how its queue allocates depend on what ran before it. Fixed at
  // glibc's initial values, once per process, before the first run: every run allocates alike.
  static const bool fixed = [] {
    return mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 128 * 1024) == 1;
  }();
  (void)fixed;
  malloc_trim(0);
  baseline_ = current_rss_bytes();
  peak_reset_ = reset_peak_rss();
}

void RssWindow::close(RunResult& r) const {
  r.rss_baseline = baseline_;
  r.rss_after = current_rss_bytes();
  if (peak_reset_) r.peak_rss = peak_rss_bytes();
}

std::uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * page : 0;
}

unsigned online_cores() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto pos = line.find(':');
      if (pos != std::string::npos) {
        auto s = line.substr(pos + 1);
        s.erase(0, s.find_first_not_of(' '));
        return s;
      }
    }
  }
  return "unknown";
}

}  // namespace

std::string utc_now(const char* fmt) {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

double measure_clock_cost_ns() {
  // The median of a few batches, so that one preemption does not decide it.
  std::vector<double> per_read;
  for (int batch = 0; batch < 7; ++batch) {
    constexpr int n = 20'000;
    std::int64_t sink = 0;
    const auto t0 = now_ns();
    for (int i = 0; i < n; ++i)
      sink += now_ns();
    const auto t1 = now_ns();
    if (sink == 42) std::puts("");  // keeps the loop
    per_read.push_back(static_cast<double>(t1 - t0) / n);
  }
  std::sort(per_read.begin(), per_read.end());
  return per_read[per_read.size() / 2];
}

RunContext gather_context() {
  RunContext c;
  c.timestamp = utc_now("%Y-%m-%dT%H:%M:%SZ");
  c.qbench_version = build_info::version;
  c.git_sha = build_info::git_sha;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  c.host = host;
  c.cpu_model = cpu_model();
  c.cores = online_cores();
  c.memory_bytes = physical_memory_bytes();
  utsname u{};
  if (uname(&u) == 0) c.kernel = std::string(u.sysname) + " " + u.release;
  c.compiler = build_info::compiler;
  c.build_type = build_info::build_type;
  c.sanitizer = build_info::sanitizer;
  c.clock = clock_description();
  c.clock_cost_ns = measure_clock_cost_ns();
  c.topology = machine_topology().describe();
  return c;
}

}  // namespace qb
