// Runs the qbench binary in a scratch directory, for the end-to-end tests (cli_test,
// calibrate_test): each test gets its own temporary directory, removed afterwards, and every
// run is bounded by a timeout so that a hang fails the test instead of blocking the suite.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/file_support.hpp"

namespace qb::test {

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string describe(const Outcome& o) {
  return "exit " + std::to_string(o.code) + "\n--- stderr:\n" + o.err + "--- stdout:\n" + o.out;
}

class QbenchProcess : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directory(dir_); }

  // Runs `bin` with `args` in dir_, killed after `timeout_s` seconds.
  Outcome run(const std::string& bin, const std::vector<std::string>& args, int timeout_s) const {
    // Appends only (GCC 12 warns falsely, -Wrestrict, on `" " + std::string` here).
    std::string cmd = "cd ";
    cmd += shell_quote(dir_);
    cmd += " && timeout -k 5 ";
    cmd += std::to_string(timeout_s);
    cmd += ' ';
    cmd += shell_quote(bin);
    for (const auto& a : args) {
      cmd += ' ';
      cmd += shell_quote(a);
    }
    cmd += " >";
    cmd += shell_quote(root_ / "stdout");
    cmd += " 2>";
    cmd += shell_quote(root_ / "stderr");
    cmd += " </dev/null";
    const int status = std::system(cmd.c_str());
    Outcome o;
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = slurp(root_ / "stdout");
    o.err = slurp(root_ / "stderr");
    return o;
  }

  // The files qbench left in dir_, sorted.
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  ScratchDir scratch_{"qb_e2e_test"};
  std::filesystem::path root_ = scratch_.path();
  std::filesystem::path dir_ = root_ / "work";  // where qbench may write; captures live in root_
};

}  // namespace qb::test
