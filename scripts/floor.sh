#!/usr/bin/env bash
# The floor and the peers (issues 7 and 13): our rings against the libraries users pick instead,
# pinned 1 producer / 1 consumer, capacity 65,536, all queues in one qbench invocation: flood
# throughput with latency recording on and off (the harness's own cost), the pingpong round
# trip, this machine's floor and every row's bare reference (--calibrate: `qbench bare` run right
# after the row, so the fidelity compares the same minute of a drifting VM). Then the target
# tables (scripts/targets.py) and the figures (plot.py).
#   scripts/floor.sh [OUT_DIR]       default: results/floor/<UTC stamp>
# Takes about 18 minutes on a 2-core machine (1,008 runs of 0.5 s, each followed by its bare
# reference); run it on a quiet one. Runs are timed, not counted: a blocking queue's round trip
# is 100x a spinning one's. The targets' floods take 30 repetitions: a fast queue's flood settles
# empty or full by the draw, so one run against its reference can differ by 30% either way, and
# with 10 repetitions the interval of the median fidelity (targets.py) reached across the bound
# for 11 of the 20 flood targets. --interleave runs them round by round: the VM's slow phases
# (round trips 4x longer for minutes) then fall on every queue alike, not on the few whose
# repetitions they happened to meet, which decided comparisons between queues.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --plots
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target qbench

dir=${1:-results/floor/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$dir"
queues=ring_spsc+spin,boost_spsc+spin,atomic_queue_spsc+spin,ring_mpmc+spin,boost_lockfree+spin
queues+=,moodycamel+spin,tbb_bounded,atomic_queue+spin

# --latency off applies to flood only: the pingpong/off combinations are skipped (listed).
build/release/qbench run --queue "$queues" --workload flood,pingpong --duration 500ms --capacity 65536 \
  --latency on,off --pin --calibrate --reps 30 --warmup 1 --interleave --out "$dir/results.csv" --overwrite \
  2> >(grep -v "^qbench: skipped .*pingpong" >&2)
# The same floods carrying 8 bytes (a task pointer, as the peers' own benchmarks pass), 64 and 256
# (--item-bytes), latency off: how far to trust those figures (targets.py lists them apart).
build/release/qbench run --queue "$queues" --workload flood --duration 500ms --capacity 65536 \
  --latency off --item-bytes 8,64,256 --pin --calibrate --reps 10 --warmup 1 --interleave --out "$dir/results.csv"

/usr/bin/python3 scripts/targets.py "$dir/results.csv" --out "$dir/targets.md"
/usr/bin/python3 scripts/plot.py "$dir/results.csv" --out "$dir/figures" >/dev/null
echo
echo "CSV:     $dir/results.csv"
echo "targets: $dir/targets.md"
echo "figures: $dir/figures/ ($(ls "$dir/figures" | wc -l) PNG files)"
