#include "results/csv.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace qb {

const std::vector<std::string_view>& csv_columns() {
  static const std::vector<std::string_view> cols = results_table().names();
  return cols;
}

const std::vector<std::string_view>& timeseries_columns() {
  static const std::vector<std::string_view> cols = timeseries_table().names();
  return cols;
}

std::string csv_header() {
  return results_table().header();
}
std::string timeseries_header() {
  return timeseries_table().header();
}

CsvRow csv_values(const RunContext& ctx, const RunResult& r, std::string_view run_id) {
  return results_table().row_values({.context = &ctx, .run = &r, .run_id = run_id});
}

CsvRow timeseries_values(const RunContext& ctx, const RunResult& r, std::string_view run_id,
                         const Sample& s) {
  return timeseries_table().row_values(
      {.context = &ctx, .run = &r, .run_id = run_id, .sample = &s});
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
