#include "harness/suite_cli.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/units.hpp"
#include "harness/system_info.hpp"
#include "harness/usage.hpp"

#ifndef QB_SOURCE_DIR
#define QB_SOURCE_DIR "."
#endif
#ifndef QB_INSTALL_DATADIR
#define QB_INSTALL_DATADIR "/usr/share/qbench"
#endif

namespace qb::cli {

namespace fs = std::filesystem;

void add_suite_options(CLI::App& app, SuiteArgs& a) {
  app.add_option("name", a.name, "the suite to run (qbench suite --list names them)")
      ->type_name("NAME");
  app.add_flag("--list", a.list, "list the suites with their titles and sizes");
  app.add_option("-o,--out", a.out,
                 "directory for results.csv, timeseries.csv, findings.md and figures/ "
                 "(default: results/suites/NAME-<time>)")
      ->type_name("DIR");
  app.add_option("--suites-dir", a.suites_dir,
                 "where NAME.suite files live (default: $QBENCH_SUITES, else the installed "
                 "share/qbench/suites beside the binary, else the source tree's suites/)")
      ->type_name("DIR");
  app.add_flag("--no-report", a.no_report, "write the CSVs only: no findings, no figures");
  app.add_flag("--quiet", a.quiet, "no tables on stdout");
}

namespace {

// qbench's data folder `sub` (suites, scripts): $ENV_VAR, else the installed copy beside the
// running binary (PREFIX/bin/x -> PREFIX/share/qbench/sub), else the one of the prefix qbench was
// configured to install into or of the Debian package (a user's binary links the installed
// library from anywhere), else the source tree it was built from.
std::string data_directory(const char* env_var, const char* sub) {
  if (const char* env = std::getenv(env_var); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "qbench" / sub;
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  // The configured prefix, then the Debian package's (cpack installs into /usr whatever the
  // build was configured with).
  for (const fs::path& dir : {fs::path(QB_INSTALL_DATADIR), fs::path("/usr/share/qbench")}) {
    if (fs::is_directory(dir / sub, ec)) return (dir / sub).string();
  }
  return std::string(QB_SOURCE_DIR) + "/" + sub;
}

std::string scripts_directory() {
  return data_directory("QBENCH_SCRIPTS", "scripts");
}

}  // namespace

std::string suites_directory(const SuiteArgs& a) {
  if (!a.suites_dir.empty()) return a.suites_dir;
  return data_directory("QBENCH_SUITES", "suites");
}

namespace {

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::optional<Verdict> verdict_named(const std::string& s) {
  for (Verdict v : {Verdict::ok, Verdict::failed, Verdict::stalled, Verdict::memory_cap})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

std::vector<std::string> suite_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".suite") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string utc_stamp() {
  return utc_now("%Y%m%d-%H%M%S");
}

// Runs argv (no shell); returns the exit status, or -1 if it could not start.
int spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& s : argv)
    args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A planned duration for --list: the sum of the steps' planned run times.
double suite_planned_seconds(const Registry& reg, const Suite& s) {
  double total = 0;
  for (const auto& st : s.steps) {
    for (const RunConfig& c : build_matrix(reg, st.options).runs)
      total += planned_seconds(c);
  }
  return total;
}

}  // namespace

Suite load_suite(const Registry& reg, const std::string& path, const std::string& name) {
  std::ifstream in(path);
  if (!in) throw UsageError("suite: cannot read '" + path + "'");
  Suite s;
  s.name = name;
  s.path = path;
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string where = path + ":" + std::to_string(line) + ": ";
    const std::string text = trim(raw);
    if (text.empty() || text[0] == '#') continue;
    const auto colon = text.find(':');
    if (colon == std::string::npos)
      throw UsageError(where + "expected 'title:', 'claim:' or 'run:' at the start of the line");
    const std::string key = trim(text.substr(0, colon));
    const std::string value = trim(text.substr(colon + 1));
    if (key == "title") {
      s.title = value;
      continue;
    }
    if (key == "claim") {
      s.claims.push_back(value);
      continue;
    }
    if (key.rfind("run", 0) != 0)
      throw UsageError(where + "unknown key '" + key + "'; expected title, claim or run");
    SuiteStep step;
    step.line = line;
    step.text = value;
    const std::string mods = trim(key.substr(3));
    if (!mods.empty()) {
      if (mods.rfind("allow=", 0) != 0)
        throw UsageError(where + "'" + mods + "': expected 'run:' or 'run allow=<verdicts>:'");
      for (const auto& v : units::split_list(mods.substr(6))) {
        auto verdict = verdict_named(v);
        if (!verdict || *verdict == Verdict::failed || *verdict == Verdict::ok)
          throw UsageError(where + "allow=" + v + ": expected stalled and/or memory_cap");
        step.step.allowed.push_back(*verdict);
      }
    }
    std::vector<std::string> args = words(value);
    for (const auto& a : args) {
      for (const char* owned : {"-o", "--out", "--overwrite", "--timeseries", "--hgrm", "--shard",
                                "--config", "--quiet"}) {
        if (a == owned || a.rfind(std::string(owned) + "=", 0) == 0)
          throw UsageError(where + a + ": a suite owns its outputs; remove this option");
      }
    }
    // A step checks its claim on each run: one repetition and no warm-up unless it asks.
    step.options.reps = "1";
    step.options.warmup = "0";
    CLI::App app{"suite step"};
    add_run_options(app, step.options);
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      std::string what = e.what();
      std::replace(what.begin(), what.end(), '\n', ' ');
      throw UsageError(where + what);
    }
    try {
      step.runs = build_matrix(reg, step.options).runs.size();
    } catch (const UsageError& e) {
      throw UsageError(where + e.what());
    }
    s.steps.push_back(std::move(step));
  }
  if (s.title.empty()) throw UsageError(path + ": no 'title:' line");
  if (s.steps.empty()) throw UsageError(path + ": no 'run:' line");
  return s;
}

int suite_command(const Registry& reg, const SuiteArgs& a, std::ostream& out, std::ostream& err) {
  const std::string dir = suites_directory(a);
  Suite suite;
  std::string out_dir;
  try {
    if (a.list) {
      const auto names = suite_names(dir);
      if (names.empty()) throw UsageError("--suites-dir: no .suite files in '" + dir + "'");
      std::size_t w = 0;
      for (const auto& n : names)
        w = std::max(w, n.size());
      out << "suites in " << dir << ":\n";
      for (const auto& n : names) {
        const Suite s = load_suite(reg, dir + "/" + n + ".suite", n);
        std::size_t runs = 0;
        for (const auto& st : s.steps)
          runs += st.runs;
        char planned[32];
        std::snprintf(planned, sizeof planned, "%.0f", suite_planned_seconds(reg, s));
        out << "  " << n << std::string(w + 2 - n.size(), ' ') << s.title << " (" << runs
            << " runs, " << planned << " s planned)\n";
      }
      return 0;
    }
    if (a.name.empty())
      throw UsageError("suite: expected a suite name or --list (qbench suite --list)");
    const std::string path = dir + "/" + a.name + ".suite";
    if (!fs::exists(path)) {
      std::string known;
      for (const auto& n : suite_names(dir))
        known += (known.empty() ? "" : ", ") + n;
      throw UsageError("suite: unknown suite '" + a.name +
                       "'; expected one of: " + (known.empty() ? "(none in " + dir + ")" : known));
    }
    suite = load_suite(reg, path, a.name);
    out_dir = a.out.empty() ? "results/suites/" + a.name + "-" + utc_stamp() : a.out;
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
      throw UsageError("--out: cannot create directory '" + out_dir + "'");
    if (fs::exists(out_dir + "/results.csv"))
      throw UsageError("--out: '" + out_dir +
                       "' already holds a results.csv; expected a new or empty directory");
  } catch (const UsageError& e) {
    err << "qbench: " << e.what() << "\n";
    return 2;
  }

  fs::copy_file(suite.path, out_dir + "/" + suite.name + ".suite",
                fs::copy_options::overwrite_existing);
  const auto t_start = std::chrono::steady_clock::now();
  const std::string prefix = utc_stamp() + "-" + std::to_string(getpid());
  int code = 0;
  for (std::size_t i = 0; i < suite.steps.size(); ++i) {
    const SuiteStep& st = suite.steps[i];
    if (!a.quiet)
      out << "\n== " << suite.name << " step " << i + 1 << "/" << suite.steps.size() << ": "
          << st.text << "\n";
    RunOptions o = st.options;
    o.out = out_dir + "/results.csv";
    o.timeseries = out_dir + "/timeseries.csv";
    o.quiet = a.quiet;
    StepOptions so = st.step;
    so.id_prefix = prefix + "-s" + std::to_string(i + 1);
    const int rc = run_command(reg, o, out, err, &so);
    if (rc == 130) return 130;
    if (rc != 0) code = rc == 2 ? 2 : std::max(code, 1);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  char took[32];
  std::snprintf(took, sizeof took, "%.0f", secs);
  out << "\nsuite " << suite.name << ": " << took << " s of runs; wrote " << out_dir
      << "/results.csv and timeseries.csv\n";
  if (code)
    err << "qbench: suite " << suite.name
        << ": a run ended with a verdict the suite does not expect (see the table above)\n";

  if (!a.no_report) {
    const std::string python =
        access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    std::vector<std::string> argv = {
        python,      scripts_directory() + "/suite_report.py",
        suite.name,  out_dir + "/results.csv",
        "--out",     out_dir,
        "--command", a.command.empty() ? "qbench suite " + suite.name : a.command};
    if (fs::exists(out_dir + "/timeseries.csv")) {
      argv.push_back("--timeseries");
      argv.push_back(out_dir + "/timeseries.csv");
    }
    const int rc = spawn(argv);
    if (rc != 0) {
      err << "qbench: suite " << suite.name << ": the report step (" << argv[1]
          << ") failed with status " << rc << "; the CSVs are in " << out_dir << "\n";
      return code ? code : 1;
    }
    out << "wrote " << out_dir << "/findings.md and " << out_dir << "/figures/\n";
  }
  return code;
}

}  // namespace qb::cli
