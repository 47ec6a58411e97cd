#include "results/csv.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace qb {

const std::vector<std::string_view>& csv_columns() {
  static const std::vector<std::string_view> cols = {
      // Schema and context (repeated on every row so files concatenate).
      "schema_version", "run_id", "timestamp", "qbench_version", "git_sha", "host", "cpu_model",
      "cores", "memory_bytes", "kernel", "compiler", "build_type", "sanitizer", "clock",
      "clock_cost_ns",
      // Configuration.
      "queue", "queue_order", "queue_bound", "queue_progress", "workload", "producers", "consumers",
      "oversubscribed", "capacity", "rate", "peak_rate", "burst_s", "period_s", "gaps", "service",
      "service_s", "service_mode", "backpressure", "push_timeout_s", "duration_s", "items_target",
      "stall_timeout_s", "max_rss_bytes", "rep", "seed",
      // Outcome.
      "verdict", "verdict_detail", "elapsed_s", "produce_s", "drain_s", "offered", "accepted",
      "rejected", "dropped", "consumed", "lost", "duplicated", "out_of_order", "checksum_ok",
      "starved_consumers", "throughput_per_s",
      // Latency from the intended send time, sojourn (push call to pop) and producer lag.
      "latency_p50_ns", "latency_p90_ns", "latency_p99_ns", "latency_p999_ns", "latency_p9999_ns",
      "latency_max_ns", "latency_mean_ns", "sojourn_p50_ns", "sojourn_p99_ns", "sojourn_max_ns",
      "lag_p50_ns", "lag_p99_ns", "lag_max_ns",
      // CPU.
      "cpu_user_s", "cpu_sys_s", "cpu_producers_s", "cpu_consumers_s", "cpu_ns_per_item",
      "cpu_cores_busy", "voluntary_switches", "involuntary_switches", "wakeups", "wasted_wakeups",
      "notifies",
      // Memory.
      "rss_before_bytes", "rss_after_bytes", "peak_rss_bytes", "peak_depth",
      // Added columns go here, at the end.
      "pacing", "cpu_pacing_s", "shutdown", "poll_interval_s", "shutdown_s", "fanout", "depth",
      "nodes_per_root", "inline_nodes", "keys", "key_reorders", "latency_recording", "pinning",
      "floor_rtt_p50_ns", "floor_rtt_p99_ns", "bare_ring_items_per_s"};
  return cols;
}

const std::vector<std::string_view>& timeseries_columns() {
  static const std::vector<std::string_view> cols = {
      "schema_version",  "run_id",         "git_sha",       "host",         "queue",   "workload",
      "producers",       "consumers",      "capacity",      "backpressure", "rep",     "t_s",
      "depth",           "rss_bytes",      "consumed",      "accepted",     "refused", "in_burst",
      "latency_mean_ns", "latency_p99_ns", "latency_max_ns"};
  return cols;
}

namespace {

std::string join_header(const std::vector<std::string_view>& cols) {
  std::string s;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) s += ',';
    s += cols[i];
  }
  return s;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
std::string num(std::uint64_t v) {
  return std::to_string(v);
}
std::string num(std::int64_t v) {
  return std::to_string(v);
}
std::string num(int v) {
  return std::to_string(v);
}
std::string secs(std::chrono::nanoseconds d) {
  return num(static_cast<double>(d.count()) * 1e-9);
}

// Fills a row by column name, so that the order lives only in csv_columns().
class RowBuilder {
 public:
  explicit RowBuilder(const std::vector<std::string_view>& cols) : row_(cols.size()) {
    for (std::size_t i = 0; i < cols.size(); ++i)
      index_.emplace(cols[i], i);
  }
  void set(std::string_view col, std::string v) {
    auto it = index_.find(col);
    if (it == index_.end()) throw std::logic_error("CSV column not in schema: " + std::string(col));
    row_[it->second] = std::move(v);
  }
  CsvRow take() { return std::move(row_); }

 private:
  CsvRow row_;
  std::unordered_map<std::string_view, std::size_t> index_;
};

}  // namespace

std::string csv_header() {
  return join_header(csv_columns());
}
std::string timeseries_header() {
  return join_header(timeseries_columns());
}

CsvRow csv_values(const RunContext& ctx, const RunResult& r, std::string_view run_id) {
  const RunConfig& c = r.config;
  RowBuilder b(csv_columns());
  b.set("schema_version", num(csv_schema_version));
  b.set("run_id", std::string(run_id));
  b.set("timestamp", ctx.timestamp);
  b.set("qbench_version", ctx.qbench_version);
  b.set("git_sha", ctx.git_sha);
  b.set("host", ctx.host);
  b.set("cpu_model", ctx.cpu_model);
  b.set("cores", num(static_cast<std::uint64_t>(ctx.cores)));
  b.set("memory_bytes", num(ctx.memory_bytes));
  b.set("kernel", ctx.kernel);
  b.set("compiler", ctx.compiler);
  b.set("build_type", ctx.build_type);
  b.set("sanitizer", ctx.sanitizer);
  b.set("clock", ctx.clock);
  b.set("clock_cost_ns", num(ctx.clock_cost_ns));

  b.set("queue", c.queue);
  b.set("queue_order", std::string(to_string(r.traits.order)));
  b.set("queue_bound", std::string(to_string(r.traits.bound)));
  b.set("queue_progress", std::string(to_string(r.traits.progress)));
  b.set("workload", std::string(to_string(c.workload)));
  b.set("producers", num(static_cast<std::uint64_t>(c.producers)));
  b.set("consumers", num(static_cast<std::uint64_t>(c.consumers)));
  b.set("oversubscribed", r.oversubscribed ? "1" : "0");
  b.set("capacity",
        c.capacity == unbounded ? "unbounded" : num(static_cast<std::uint64_t>(c.capacity)));
  const bool paced = c.workload != WorkloadKind::flood;
  b.set("rate", paced ? num(c.rate) : "");
  const bool burst = c.workload == WorkloadKind::burst;
  b.set("peak_rate", burst ? num(c.peak_rate) : "");
  b.set("burst_s", burst ? secs(c.burst) : "");
  b.set("period_s", burst ? secs(c.period) : "");
  b.set("gaps", paced ? std::string(to_string(c.gaps)) : "");
  b.set("service", std::string(to_string(c.service)));
  const bool served = c.service != ServiceDist::none;
  b.set("service_s", served ? secs(c.service_time) : "");
  b.set("service_mode", served ? std::string(to_string(c.service_mode)) : "");
  b.set("backpressure", std::string(to_string(c.backpressure)));
  b.set("push_timeout_s", c.backpressure == Backpressure::timeout ? secs(c.push_timeout) : "");
  b.set("duration_s", c.items ? "" : secs(c.duration));
  b.set("items_target", c.items ? num(c.items) : "");
  b.set("stall_timeout_s", secs(c.stall_timeout));
  b.set("max_rss_bytes", c.max_rss_bytes ? num(c.max_rss_bytes) : "");
  b.set("rep", num(c.rep));
  b.set("seed", num(c.seed));

  b.set("verdict", std::string(to_string(r.verdict)));
  b.set("verdict_detail", r.detail);
  b.set("elapsed_s", num(r.elapsed_s));
  b.set("produce_s", num(r.produce_s));
  b.set("drain_s", num(r.drain_s));
  b.set("offered", num(r.offered));
  b.set("accepted", num(r.accepted));
  b.set("rejected", num(r.rejected));
  b.set("dropped", num(r.dropped));
  b.set("consumed", num(r.consumed));
  b.set("lost", num(r.lost));
  b.set("duplicated", num(r.duplicated));
  b.set("out_of_order", num(r.out_of_order));
  b.set("checksum_ok", r.checksum_ok ? "1" : "0");
  b.set("starved_consumers", num(r.starved_consumers));
  b.set("throughput_per_s", num(r.throughput()));

  const bool any = r.latency.count() > 0;
  auto pct = [&](const Histogram& h, double p) { return any ? num(h.percentile(p)) : ""; };
  b.set("latency_p50_ns", pct(r.latency, 50));
  b.set("latency_p90_ns", pct(r.latency, 90));
  b.set("latency_p99_ns", pct(r.latency, 99));
  b.set("latency_p999_ns", pct(r.latency, 99.9));
  b.set("latency_p9999_ns", pct(r.latency, 99.99));
  b.set("latency_max_ns", any ? num(r.latency.max()) : "");
  b.set("latency_mean_ns", any ? num(r.latency.mean()) : "");
  const bool sojourned = r.sojourn.count() > 0;
  b.set("sojourn_p50_ns", sojourned ? num(r.sojourn.percentile(50)) : "");
  b.set("sojourn_p99_ns", sojourned ? num(r.sojourn.percentile(99)) : "");
  b.set("sojourn_max_ns", sojourned ? num(r.sojourn.max()) : "");
  // Flood has no schedule, so no producer can be behind it: lag is not applicable.
  const bool lagged = paced && r.lag.count() > 0;
  b.set("lag_p50_ns", lagged ? num(r.lag.percentile(50)) : "");
  b.set("lag_p99_ns", lagged ? num(r.lag.percentile(99)) : "");
  b.set("lag_max_ns", lagged ? num(r.lag.max()) : "");

  const CpuUsage cpu = r.cpu();
  b.set("cpu_user_s", num(cpu.user_s));
  b.set("cpu_sys_s", num(cpu.sys_s));
  b.set("cpu_producers_s", num(r.cpu_producers.total_s()));
  b.set("cpu_consumers_s", num(r.cpu_consumers.total_s()));
  b.set("cpu_ns_per_item", r.consumed ? num(r.cpu_ns_per_item()) : "");
  b.set("cpu_cores_busy", r.elapsed_s > 0 ? num(r.cores_busy()) : "");
  b.set("voluntary_switches", num(cpu.voluntary_switches));
  b.set("involuntary_switches", num(cpu.involuntary_switches));
  if (r.wait_stats) {
    b.set("wakeups", num(r.wait_stats->wakeups));
    b.set("wasted_wakeups", num(r.wait_stats->wasted_wakeups));
    b.set("notifies", num(r.wait_stats->notifies));
  }
  b.set("rss_before_bytes", num(r.rss_before));
  b.set("rss_after_bytes", num(r.rss_after));
  b.set("peak_rss_bytes", r.peak_rss ? num(*r.peak_rss) : "");
  b.set("peak_depth", num(r.peak_depth));
  b.set("pacing", paced ? std::string(to_string(c.pacing)) : "");
  b.set("cpu_pacing_s", paced ? num(r.cpu_pacing_s) : "");
  b.set("shutdown", std::string(to_string(c.shutdown)));
  b.set("poll_interval_s", c.shutdown == Shutdown::poll ? secs(c.poll_interval) : "");
  b.set("shutdown_s", r.shutdown_s >= 0 ? num(r.shutdown_s) : "");
  const bool tree = c.workload == WorkloadKind::tree;
  b.set("fanout", tree ? num(c.fanout) : "");
  b.set("depth", tree ? num(c.depth) : "");
  b.set("nodes_per_root", tree ? num(c.nodes_per_root()) : "");
  b.set("inline_nodes", tree ? num(r.inline_nodes) : "");
  b.set("keys", c.keys && !tree ? num(c.keys) : "");
  b.set("key_reorders", c.keys && !tree ? num(r.key_reorders) : "");
  b.set("latency_recording", c.record_latency ? "on" : "off");
  b.set("pinning", r.pinning);
  b.set("floor_rtt_p50_ns", ctx.calibrated ? num(ctx.floor_rtt_p50_ns) : "");
  b.set("floor_rtt_p99_ns", ctx.calibrated ? num(ctx.floor_rtt_p99_ns) : "");
  b.set("bare_ring_items_per_s", ctx.calibrated ? num(ctx.bare_ring_items_per_s) : "");
  return b.take();
}

std::string csv_line(const CsvRow& row) {
  std::string s;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i) s += ',';
    const std::string& f = row[i];
    if (f.find_first_of(",\"\n\r") == std::string::npos) {
      s += f;
    } else {
      s += '"';
      for (char ch : f) {
        if (ch == '"') s += '"';
        s += ch;
      }
      s += '"';
    }
  }
  return s;
}

std::vector<std::string> parse_csv_line(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += ch;
      }
    } else if (ch == '"' && cur.empty()) {
      quoted = true;
    } else if (ch == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else if (ch != '\r') {
      cur += ch;
    }
  }
  if (quoted) throw std::runtime_error("unterminated quoted field");
  out.push_back(std::move(cur));
  return out;
}

void CsvReporter::report_context(const RunContext& ctx) {
  ctx_ = ctx;
  if (header_) out_ << csv_header() << '\n';
}

void CsvReporter::report_run(const RunResult& r, std::string_view run_id) {
  out_ << csv_line(csv_values(ctx_, r, run_id)) << '\n';
}

CsvFile::CsvFile(std::string path, std::string header, bool overwrite)
    : path_(std::move(path)), header_(std::move(header)) {
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) throw OutputError(path_ + " exists and is not a regular file");
    if (::access(path_.c_str(), R_OK) != 0) throw OutputError(path_ + " exists but cannot be read");
  }
  std::ifstream in(path_, std::ios::binary);
  if (in && !overwrite) {
    std::stringstream ss;
    ss << in.rdbuf();
    existing_ = ss.str();
    if (!existing_.empty()) {
      const auto first = existing_.substr(0, existing_.find('\n'));
      const auto got =
          first.empty() || first.back() != '\r' ? first : first.substr(0, first.size() - 1);
      if (got != header_) {
        throw OutputError(path_ +
                          " exists with another CSV schema (its header differs from qbench's "
                          "schema v" +
                          std::to_string(csv_schema_version) +
                          "); refusing to touch it: choose another --out or pass --overwrite");
      }
      if (existing_.back() != '\n') existing_ += '\n';
      appended_ = true;
    }
  }
  // Prove now, before any run, that the directory takes a new file.
  const std::string probe = path_ + ".qbench-probe." + std::to_string(getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    throw OutputError("cannot write next to " + path_ + ": " + std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

void CsvFile::commit() {
  const std::string tmp = path_ + ".tmp." + std::to_string(getpid());
  std::string content;
  content.reserve(header_.size() + existing_.size() + lines_.size() + 1);
  if (existing_.empty()) content += header_ + '\n';
  content += existing_;
  content += lines_;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw OutputError("creating " + tmp + " failed: " + std::strerror(errno));
  // Keep the permissions of the file being replaced.
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0) (void)::fchmod(fd, st.st_mode & 07777);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  // fsync before rename: after a crash the file is the old version or the new one, never empty.
  const bool ok = done == content.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    throw OutputError("writing " + tmp + " failed");
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw OutputError("renaming " + tmp + " to " + path_ + " failed: " + why);
  }
}

}  // namespace qb
