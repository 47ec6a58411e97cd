// Bad input on the command line, for every command: one line that names the flag and what it
// accepts; the command then exits 2 and writes nothing (docs/DESIGN.md, "Bad input").
#pragma once

#include <stdexcept>
#include <string>

namespace qb::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws "FLAG: 'VALUE' is not accepted; expected ACCEPTED".
[[noreturn]] inline void bad(const std::string& flag, const std::string& value,
                             const std::string& accepted) {
  throw UsageError(flag + ": '" + value + "' is not accepted; expected " + accepted);
}

}  // namespace qb::cli
