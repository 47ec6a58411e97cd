// Human-friendly numbers on the command line: counts and rates with k/M/G suffixes ("50k",
// "1.5M", "50k/s"), durations with units ("100ms", "5s", "250us", "2min"), byte sizes ("512M",
// "4G", "4GiB"). Every parser returns nullopt on anything malformed; the caller names the flag.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qb::units {

std::optional<double> parse_number(std::string_view s);        // plain decimal, no suffix
std::optional<double> parse_rate(std::string_view s);          // 50k, 1M, 2.5k/s, 1000
std::optional<std::uint64_t> parse_count(std::string_view s);  // 50k, 1M, 1000 (whole numbers)
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s);  // ns us ms s min
std::optional<std::uint64_t> parse_bytes(std::string_view s);  // 512M, 4G, 4GiB, 1024 (binary)

// Splits "a,b,c" (whitespace trimmed, empty parts kept so that they are reported).
std::vector<std::string> split_list(std::string_view s);

// Formatting for people: 1.23M, 4.6us, 12.3MiB.
std::string format_rate(double per_s);
std::string format_ns(double ns);
std::string format_bytes(double bytes);

}  // namespace qb::units
