#!/usr/bin/env bash
# Performance regression check of the working tree against a base commit, on this machine.
#   scripts/perf-check.sh BASE_REF [ROUNDS]
# Builds BASE_REF (in a git worktree) and the working tree side by side, runs the CI suite on
# both interleaved (base, candidate, base, candidate, ... ROUNDS times, default 9) so that
# machine noise and drift hit both sides alike, then `qbench compare` decides: exit code 0 no
# regression and nothing inconclusive, 1 regression, 3 inconclusive only (more rounds would
# decide), 2 bad input. Results land in out/perf-check/.
# QB_SUITE (default suites/ci-v1.toml) and QB_COMPARE_ARGS (e.g. "--normalize-by mutex_cv")
# tune it.
set -euo pipefail
cd "$(dirname "$0")/.."

base_ref=${1:?usage: scripts/perf-check.sh BASE_REF [ROUNDS]}
rounds=${2:-9}
suite=${QB_SUITE:-suites/ci-v1.toml}
out=out/perf-check
jobs=$(nproc)

scripts/deps.sh
base_sha=$(git rev-parse --verify "$base_ref^{commit}")
mkdir -p "$out"
rm -f "$out"/base.csv "$out"/candidate.csv "$out"/base-ts.csv "$out"/candidate-ts.csv

# The base, built from a detached worktree of BASE_REF.
worktree=build/perf-base-src
if [ -d "$worktree" ]; then git worktree remove --force "$worktree" || rm -rf "$worktree"; fi
git worktree prune
git worktree add --detach "$worktree" "$base_sha" >/dev/null
trap 'git worktree remove --force "$worktree" >/dev/null 2>&1 || true' EXIT
echo "=== building base $base_ref ($(git rev-parse --short "$base_sha"))"
cmake -S "$worktree" -B build/perf-base -DCMAKE_BUILD_TYPE=Release -DQB_BUILD_TESTS=OFF \
  -DQB_BUILD_BENCH=OFF >/dev/null
cmake --build build/perf-base -j "$jobs" --target qbench >/dev/null
echo "=== building candidate (working tree)"
cmake -S . -B build/perf-candidate -DCMAKE_BUILD_TYPE=Release -DQB_BUILD_TESTS=OFF \
  -DQB_BUILD_BENCH=OFF >/dev/null
cmake --build build/perf-candidate -j "$jobs" --target qbench >/dev/null

base=build/perf-base/qbench
cand=build/perf-candidate/qbench
for ((r = 1; r <= rounds; r++)); do
  for side in base candidate; do
    bin=$base
    [ "$side" = candidate ] && bin=$cand
    echo "=== round $r/$rounds: $side"
    # Each round is one repetition; the seed follows the round so both sides see the same
    # Poisson gaps. A failed or stalled run is written with its verdict; compare reports it.
    "$bin" run --config "$suite" --seed "$r" --quiet \
      --out "$out/$side.csv" --timeseries "$out/$side-ts.csv" || true
  done
done

echo "=== compare"
status=0
# shellcheck disable=SC2086
"$cand" compare "$out/base.csv" "$out/candidate.csv" ${QB_COMPARE_ARGS:-} | tee "$out/compare.txt" ||
  status=${PIPESTATUS[0]}
# shellcheck disable=SC2086
"$cand" compare "$out/base.csv" "$out/candidate.csv" ${QB_COMPARE_ARGS:-} --markdown \
  >"$out/compare.md" || true

if [ -x /usr/bin/python3 ] && [ -f scripts/plot.py ]; then
  /usr/bin/python3 scripts/plot.py "$out/base.csv" "$out/candidate.csv" --out "$out/figures" \
    >/dev/null || echo "perf-check: figures failed (the comparison stands)" >&2
  /usr/bin/python3 scripts/report.py "$out/base.csv" "$out/candidate.csv" \
    --out "$out/report.html" >/dev/null || echo "perf-check: report failed" >&2
fi
echo "=== results in $out/ (base.csv, candidate.csv, compare.txt, compare.md)"
exit "$status"
