// This machine's floor, measured with no queue and no harness around it: the round trip of a
// bare atomic ping-pong between two CPUs, the cost of one clock read, and the throughput of a
// bare single-producer single-consumer ring. A queue cannot hand an item over faster than half
// the round trip, and no harness run of ring_spsc beats the bare ring: the numbers put every
// result in proportion.
//
// Round trip. Thread A stores a sequence number into one cache-line-aligned atomic; thread B
// (on another CPU) spins until it sees it and stores it back into a second line; A spins until
// it sees the answer. After a warm-up, A times batches of `rtt_batch` consecutive round trips
// with qb::now_ns (CLOCK_MONOTONIC, the harness's clock): one sample is a batch's elapsed time
// divided by its round trips, so each sample carries the cost of about one clock read spread
// over the batch (clock_read_ns / rtt_batch, about 1-2 ns with the default 16) instead of a
// whole clock read per round trip. The samples go into a qb::Histogram in picoseconds (relative
// precision 1/1024); min, p50, p99 and max are of these per-batch means, so a single slow round
// trip (a preemption) shows in max divided by the batch size.
//
// Bare ring. qb::RingSpsc<qb::Item> with the producer and the consumer pinned to two CPUs,
// spinning on try_push / try_pop; items/s from the common start to the last item consumed. The
// consumer checks that item ids arrive as 0, 1, 2, ... and that their sum and count add up;
// anything else throws CalibrationError (a broken ring or machine, never a number to report).
//
// Core to core. Then the same round trip (pair_round_trips each, 10,000 by default) between every
// pair of allowed CPUs a < b, as the core-to-core-latency tools do: SMT siblings, cores of one
// package and cores of two packages show as different figures. The console prints min, median and
// max over the pairs (and the matrix for up to 16 CPUs); the calibration file has them. 128 CPUs
// are 8,128 pairs: about 10-30 s.
//
// Pinning. The two threads go on the first two allowed CPUs (plan_pinning(1, 1, cpus)). With only
// one allowed CPU they run unpinned and share it (oversubscribed): waits then yield at once, and
// the round trip measures the scheduler, not the cache. The caller's own affinity is untouched:
// calibrate() starts its own threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "results/calibration.hpp"
#include "results/context.hpp"

namespace CLI {
class App;  // <CLI/CLI.hpp>: only the files that add options include it (it is heavy)
}  // namespace CLI

namespace qb {

struct CalibrateOptions {
  std::uint64_t round_trips = 100'000;        // timed round trips (>= 1)
  std::uint64_t warmup_round_trips = 10'000;  // untimed, first
  std::uint64_t rtt_batch = 16;               // round trips per timed sample (>= 1)
  std::uint64_t ring_items = 10'000'000;      // items through the bare ring (>= 1)
  std::size_t ring_capacity = 1024;           // the harness's default --capacity
  std::vector<unsigned> cpus;                 // CPUs to use; empty: allowed_cpus()
  std::uint64_t pair_round_trips = 10'000;    // per pair of the core-to-core matrix (0: none)
};

// The bare ring lost, duplicated or reordered items.
struct CalibrationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Takes about 1-2 s with the defaults on a shared 2-vCPU VM (30 ms of round trips, 0.5-1.5 s of
// ring at 7-20M items/s). Throws std::invalid_argument for a zero count and CalibrationError when
// the ring check fails.
Calibration calibrate(const CalibrateOptions& options);

namespace cli {

// `qbench calibrate` options as typed (counts accept k/M/G suffixes: 100k, 20M).
struct CalibrateArgs {
  std::string round_trips = "100k";
  std::string ring_items = "10M";
  std::string out;  // CSV: created, or a row appended if it has the same header
  bool overwrite = false;
};

void add_calibrate_options(CLI::App& calibrate, CalibrateArgs& a);
// Exit codes: 0 measured (and written), 1 the ring check failed, 2 bad input (one line on
// stderr naming the flag; nothing measured, nothing written).
int calibrate_command(const CalibrateArgs& a, std::ostream& out, std::ostream& err);

// The one-row CSV of `qbench calibrate --out`: header and row (no newline), for tests and for
// anyone who wants the numbers in a file.
std::string calibration_csv_header();
std::string calibration_csv_line(const RunContext& ctx, const Calibration& c);

}  // namespace cli
}  // namespace qb
