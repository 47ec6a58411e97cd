// Bad input on the command line, for every command: one line that names the flag and what it
// accepts; the command then exits 2 and writes nothing (docs/DESIGN.md, "Bad input").
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/units.hpp"

namespace qb::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws "FLAG: 'VALUE' is not accepted; expected ACCEPTED".
[[noreturn]] inline void bad(const std::string& flag, const std::string& value,
                             const std::string& accepted) {
  throw UsageError(flag + ": '" + value + "' is not accepted; expected " + accepted);
}

// A whole number from lo to hi with k/M/G suffixes (100k), for the commands outside `run` (whose
// options are declared in harness/run_options.cpp). `hi_text` spells hi for people ("1G (10^9)").
inline std::uint64_t count_flag(const std::string& flag, const std::string& s, std::uint64_t lo,
                                std::uint64_t hi, const std::string& hi_text = "") {
  const auto n = units::parse_count(s);
  if (!n || *n < lo || *n > hi)
    bad(flag, s,
        "a whole number from " + std::to_string(lo) + " to " +
            (hi_text.empty() ? std::to_string(hi) : hi_text) +
            "; k/M/G suffixes allowed, such as 100k");
  return *n;
}

}  // namespace qb::cli
