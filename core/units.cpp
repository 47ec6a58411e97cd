#include "core/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <initializer_list>

namespace qb::units {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

// Splits "12.5ms" into 12.5 and "ms". The number part must be a plain finite decimal.
std::optional<std::pair<double, std::string_view>> number_and_suffix(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                          ((s[i] == '-' || s[i] == '+') && i == 0) ||
                          ((s[i] == 'e' || s[i] == 'E') && i > 0 && i + 1 < s.size() &&
                           (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '-' ||
                            s[i + 1] == '+'))))
    ++i;
  if (i == 0) return std::nullopt;
  double v = 0;
  const auto num = s.substr(0, i);
  const auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || p != num.data() + num.size() || !std::isfinite(v)) return std::nullopt;
  return std::make_pair(v, trim(s.substr(i)));
}

std::optional<double> metric_multiplier(std::string_view suffix) {
  if (suffix.empty()) return 1.0;
  if (suffix == "k" || suffix == "K") return 1e3;
  if (suffix == "M") return 1e6;
  if (suffix == "G") return 1e9;
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_number(std::string_view s) {
  auto ns = number_and_suffix(s);
  if (!ns || !ns->second.empty()) return std::nullopt;
  return ns->first;
}

std::optional<double> parse_rate(std::string_view s) {
  auto ns = number_and_suffix(s);
  if (!ns) return std::nullopt;
  auto suffix = ns->second;
  if (suffix.size() >= 2 && suffix.substr(suffix.size() - 2) == "/s") {
    suffix.remove_suffix(2);
  }
  auto m = metric_multiplier(suffix);
  if (!m) return std::nullopt;
  return ns->first * *m;
}

std::optional<std::uint64_t> parse_count(std::string_view s) {
  // Plain integers are read exactly (a double would round above 2^53).
  const auto t = trim(s);
  if (!t.empty() && std::isdigit(static_cast<unsigned char>(t.front())) &&
      t.find_first_not_of("0123456789") == std::string_view::npos) {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
    return v;
  }
  auto ns = number_and_suffix(s);
  if (!ns) return std::nullopt;
  auto m = metric_multiplier(ns->second);
  if (!m) return std::nullopt;
  const double v = ns->first * *m;
  if (v < 0 || v > 9.0e18 || std::floor(v) != v) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s) {
  auto ns = number_and_suffix(s);
  if (!ns) return std::nullopt;
  const auto u = ns->second;
  double scale;
  if (u == "ns")
    scale = 1;
  else if (u == "us" || u == "µs")
    scale = 1e3;
  else if (u == "ms")
    scale = 1e6;
  else if (u == "s")
    scale = 1e9;
  else if (u == "min" || u == "m")
    scale = 60e9;
  else if (u == "h")
    scale = 3600e9;
  else
    return std::nullopt;  // a bare number is ambiguous: the unit is required
  const double v = ns->first * scale;
  if (!std::isfinite(v) || std::fabs(v) > 9.0e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(v)));
}

std::optional<std::uint64_t> parse_bytes(std::string_view s) {
  auto ns = number_and_suffix(s);
  if (!ns || ns->first < 0) return std::nullopt;
  auto u = ns->second;
  if (u.size() == 3 && u.substr(1) == "iB") u = u.substr(0, 1);
  if (u.size() == 2 && u[1] == 'B') u = u.substr(0, 1);
  double scale;
  if (u.empty() || u == "B")
    scale = 1;
  else if (u == "K" || u == "k")
    scale = 1024.0;
  else if (u == "M")
    scale = 1024.0 * 1024;
  else if (u == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (u == "T")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  const double v = ns->first * scale;
  if (v > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = s.find(',', start);
    out.emplace_back(
        trim(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {
// Picks the largest unit the value reaches, then moves up one unit if rounding as printed
// would reach the next one (999999 ns prints as 1.00ms, not 1000.0us). Largest unit first.
struct Unit {
  double scale;
  const char* suffix;
  int decimals;
};
std::string format_scaled(double v, std::initializer_list<Unit> units_desc) {
  const Unit* u = units_desc.begin();
  const Unit* last = units_desc.end() - 1;
  while (u != last && v < u->scale)
    ++u;
  if (u != units_desc.begin()) {
    const double p10 = std::pow(10.0, u->decimals);
    if (std::round(v / u->scale * p10) / p10 * u->scale >= (u - 1)->scale) --u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f%s", u->decimals, v / u->scale, u->suffix);
  return buf;
}
}  // namespace

std::string format_rate(double v) {
  return format_scaled(v, {{1e9, "G", 2}, {1e6, "M", 2}, {1e3, "k", 1}, {1, "", 0}});
}

std::string format_ns(double ns) {
  return format_scaled(ns, {{1e9, "s", 2}, {1e6, "ms", 2}, {1e3, "us", 1}, {1, "ns", 0}});
}

std::string format_bytes(double b) {
  constexpr double k = 1024.0;
  return format_scaled(b, {{k * k * k, "GiB", 2}, {k * k, "MiB", 1}, {k, "KiB", 1}, {1, "B", 0}});
}

}  // namespace qb::units
