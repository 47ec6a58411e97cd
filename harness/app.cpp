// The command line of qbench and of every user's benchmark binary (harness/user_main.hpp): CLI11
// wiring and input validation only; the work happens in harness/cli.cpp (validation, the cross
// product of options) and harness/engine.hpp (one run).
#include "harness/app.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "harness/bare_cli.hpp"
#include "harness/calibrate.hpp"
#include "harness/cli.hpp"
#include "harness/compare_cli.hpp"
#include "harness/merge_cli.hpp"
#include "harness/suite_cli.hpp"
#include "results/columns.hpp"

namespace qb {

int qbench_main(int argc, char** argv, const Registry& registry) {
  CLI::App app{"qbench: load tests and benchmarks for producer/consumer queues"};
  app.require_subcommand(1);
  app.set_version_flag("--version", cli::version_string());

  auto* list = app.add_subcommand("list", "list every queue (order, bound, progress) and workload");

  cli::RunOptions opts;
  auto* run = app.add_subcommand("run", "run one configuration or the cross product of lists");
  cli::add_run_options(*run, opts);
  run->footer(
      "\nexamples (each configuration runs 5 times after a warm-up; the console shows the median "
      "and range):\n"
      "  qbench run -q mutex_cv,moodycamel+park -w steady -r 50k\n"
      "  qbench run -q split_cv -w burst -r 20k --peak-rate 200k --burst 200ms --period 2s "
      "--work fixed:20us -c 2 -b block,timeout:5ms,drop --out burst.csv\n"
      "  qbench run -q all -w flood -n 2M --reps 3 --out flood.csv\n"
      "\ndocs: README.md, section \"The qbench command\", and results/README.md, every CSV column "
      "(in the source tree, or share/doc/qbench once installed); qbench list names every queue "
      "and workload, qbench columns every column");
  app.set_config("--config", "", "read options from a TOML/INI file ([run] section)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  run->fallthrough();

  cli::CompareArgs cmp;
  auto* compare =
      app.add_subcommand("compare", "compare two results files: a regression gate for CI");
  cli::add_compare_options(*compare, cmp);

  cli::MergeArgs merge_args;
  auto* merge = app.add_subcommand(
      "merge", "join the results files of a sharded sweep into one, checking its parts");
  cli::add_merge_options(*merge, merge_args);

  cli::SuiteArgs suite_args;
  auto* suite = app.add_subcommand(
      "suite", "run a named experiment (suites/NAME.suite): CSV, figures and findings");
  cli::add_suite_options(*suite, suite_args);
  for (int i = 0; i < argc; ++i)
    suite_args.command += (i ? " " : "") + std::string(i ? argv[i] : "qbench");

  cli::CalibrateArgs cal;
  auto* calibrate = app.add_subcommand(
      "calibrate", "measure this machine's floor: core-to-core round trip, clock read, bare ring");
  cli::add_calibrate_options(*calibrate, cal);

  cli::BareArgs bare_args;
  auto* bare = app.add_subcommand(
      "bare",
      "each queue's bare reference: flood or ping-pong with nothing of the harness per item");
  cli::add_bare_options(*bare, bare_args);

  bool columns_json = false;
  auto* columns = app.add_subcommand(
      "columns",
      "print the columns of the results, time-series and calibration files: name, role, "
      "type, unit, better direction");
  columns->add_flag("--json", columns_json, "as JSON (scripts/columns.json is this output)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit code 2, nothing written.
    std::string what = e.what();
    for (char& c : what)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "qbench: %s (see qbench%s --help)\n", what.c_str(),
                 run->parsed()         ? " run"
                 : compare->parsed()   ? " compare"
                 : merge->parsed()     ? " merge"
                 : suite->parsed()     ? " suite"
                 : calibrate->parsed() ? " calibrate"
                 : bare->parsed()      ? " bare"
                 : columns->parsed()   ? " columns"
                                       : "");
    return 2;
  }

  if (list->parsed()) return cli::list_command(registry, std::cout);
  if (compare->parsed()) return cli::compare_command(cmp, std::cout, std::cerr);
  if (merge->parsed()) return cli::merge_command(merge_args, std::cout, std::cerr);
  if (calibrate->parsed()) return cli::calibrate_command(cal, std::cout, std::cerr);
  if (bare->parsed()) return cli::bare_command(registry, bare_args, std::cout, std::cerr);
  if (columns->parsed()) {
    if (columns_json)
      write_columns_json(std::cout);
    else
      write_columns_text(std::cout);
    return 0;
  }
  if (suite->parsed()) return cli::suite_command(registry, suite_args, std::cout, std::cerr);
  return cli::run_command(registry, opts, std::cout, std::cerr);
}

}  // namespace qb
