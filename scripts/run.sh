#!/usr/bin/env bash
# The main job: installs what is missing, builds Release, and runs the default comparison (about
# two minutes on 2 cores): five queue families asked four questions, each configuration 5 times
# after a warm-up. Writes CSV, time series, figures and an HTML report to
# results/runs/<timestamp>/ and prints, per question, one line per configuration (median and
# range of the repetitions) and a summary relative to the first queue.
#   scripts/run.sh                 the default comparison
#   scripts/run.sh --reps 10       extra options are passed on to every `qbench run`
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --plots
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)" --target qbench

stamp=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/runs/$stamp
mkdir -p "$dir"

# The queues: the textbook mutex + condition variable, a library's blocking queue, a lock-free
# queue that parks its waiters, a lock-free ring whose waiters spin, and a sleep-polling loop.
queues=mutex_cv,moodycamel_blocking,moodycamel+park,ring_mpmc+spin,mutex_deque+sleep:100
ask() {
  local title=$1
  shift
  echo
  echo "=== $title"
  build/release/qbench run --queue "$queues" --capacity 1024 --reps 5 --warmup 1 \
    --out "$dir/comparison.csv" --timeseries "$dir/timeseries.csv" "$@" "${extra[@]}"
}
extra=("$@")

# 2 cores here: 1x1 fits the machine; 2x2 runs 4 workers on 2 cores (oversubscribed, marked *),
# which is where spinning and polling queues show their cost.
work=(--workload steady --rate 30k --work fixed:20us --duration 400ms)
ask "Consumers that need time (20 us of CPU per item, 30k items/s offered), 1x1" "${work[@]}"
ask "Consumers that need time, 2x2 (oversubscribed)" "${work[@]}" --producers 2 --consumers 2
ask "A burst the consumers cannot absorb: 400k/s for 50 ms into 1024 slots, 10 us per item" \
  --workload burst --rate 10k --peak-rate 400k --burst 50ms --period 1s --work fixed:10us \
  --backpressure block,timeout:1ms,drop --duration 300ms
idle=(--workload steady --rate 1k --duration 300ms)
ask "An idle trickle (1k items/s): what waiting costs in CPU, 1x1" "${idle[@]}"
ask "An idle trickle, 2x2 (oversubscribed)" "${idle[@]}" --producers 2 --consumers 2
ask "As fast as possible: no pacing, no work (the queue's own throughput), 1x1" \
  --workload flood --duration 200ms

/usr/bin/python3 scripts/plot.py "$dir/comparison.csv" --timeseries "$dir/timeseries.csv" \
  --out "$dir/figures" >/dev/null
/usr/bin/python3 scripts/report.py "$dir/comparison.csv" --timeseries "$dir/timeseries.csv" \
  --out "$dir/report.html" --command "scripts/run.sh${*:+ $*}" >/dev/null

echo
echo "CSV:         $dir/comparison.csv"
echo "time series: $dir/timeseries.csv"
echo "figures:     $dir/figures/ ($(ls "$dir/figures" | wc -l) PNG files)"
echo "report:      $dir/report.html"
