#!/usr/bin/env bash
# Performance regression check of a git repository's working tree against a base commit, on this
# machine: qbench's own tree, or any project that builds a benchmark binary with qbench's library
# (QBENCH_MAIN, docs/your-queue.md). Installed as `qbench-perf-check`.
#
#   perf-check.sh [options] BASE_REF [ROUNDS]
#
# Run it inside the repository (or name it with --repo). It checks BASE_REF out in a git
# worktree, builds it and the working tree side by side with the same build command, runs the
# suite on both interleaved (base, candidate, base, candidate, ... ROUNDS times, default 9) so
# that machine noise and drift hit both sides alike, and `compare` decides. Exit code: 0 no
# regression and nothing inconclusive, 1 a regression, 3 inconclusive only (more rounds would
# decide), 2 bad input or a build that failed.
#
# Options (each also read from the environment variable in brackets):
#   --build CMD     the build command, run by bash in each checkout's top folder with
#                   QB_BUILD_DIR set to that side's (empty) build folder [QB_BUILD]
#   --bench PATH    the benchmark binary the build makes, relative to QB_BUILD_DIR [QB_BENCH]
#   --suite FILE    the suite to run (a qbench --config file), relative to the repository
#                   [QB_SUITE]; the working tree's copy runs on both sides
#   --out DIR       where results go, relative to the repository [QB_OUT]; default
#                   out/perf-check; the checkouts and builds go to DIR/work
#   --compare ARGS  extra arguments for compare, e.g. "--normalize-by mutex_cv"
#                   [QB_COMPARE_ARGS]
#   --repo DIR      the repository (default: the one the current folder is in)
#   --no-figures    no figures and report.html (they need python3-matplotlib)
# In qbench's own tree all of them have defaults (qbench's CMake build, the qbench binary,
# suites/ci-v1.toml); elsewhere --build, --bench and --suite are required.
set -euo pipefail

usage="usage: perf-check.sh [--build CMD] [--bench PATH] [--suite FILE] [--out DIR] [--compare ARGS] [--repo DIR] [--no-figures] BASE_REF [ROUNDS]"
bad() {  # one line naming what is wrong, exit 2
  echo "perf-check: $*" >&2
  exit 2
}

scripts_dir=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
build_cmd=${QB_BUILD:-}
bench=${QB_BENCH:-}
suite=${QB_SUITE:-}
out=${QB_OUT:-out/perf-check}
compare_args=${QB_COMPARE_ARGS:-}
repo=
figures=1
positional=()
while [ $# -gt 0 ]; do
  case $1 in
    --build | --bench | --suite | --out | --compare | --repo)
      [ $# -ge 2 ] || bad "$1 needs a value ($usage)"
      case $1 in
        --build) build_cmd=$2 ;;
        --bench) bench=$2 ;;
        --suite) suite=$2 ;;
        --out) out=$2 ;;
        --compare) compare_args=$2 ;;
        --repo) repo=$2 ;;
      esac
      shift 2
      ;;
    --no-figures)
      figures=0
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*) bad "unknown option $1 ($usage)" ;;
    *)
      positional+=("$1")
      shift
      ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && [ ${#positional[@]} -le 2 ] || bad "$usage"
base_ref=${positional[0]}
rounds=${positional[1]:-9}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || bad "ROUNDS must be a whole number of rounds, 1 or more (got '$rounds')"

if [ -n "$repo" ]; then
  [ -d "$repo" ] || bad "--repo: no such folder: $repo"
  cd "$repo"
fi
top=$(git rev-parse --show-toplevel 2>/dev/null) || bad "not inside a git repository (run it in your repository, or pass --repo DIR)"
cd "$top"
base_sha=$(git rev-parse --verify --quiet "$base_ref^{commit}") ||
  bad "BASE_REF '$base_ref' is not a commit of $top (fetch it first: a shallow CI clone lacks the base)"

# qbench's own tree: its build, binary and suite are the defaults.
if [ -f qbench/qbench.hpp ] && [ -f suites/ci-v1.toml ] && [ -x scripts/deps.sh ]; then
  scripts/deps.sh
  : "${build_cmd:=cmake -S . -B \"\$QB_BUILD_DIR\" -DCMAKE_BUILD_TYPE=Release -DQB_BUILD_TESTS=OFF -DQB_BUILD_BENCH=OFF >/dev/null && cmake --build \"\$QB_BUILD_DIR\" -j \"\$(nproc)\" --target qbench >/dev/null}"
  : "${bench:=qbench}"
  : "${suite:=suites/ci-v1.toml}"
fi
[ -n "$build_cmd" ] || bad "--build is required outside qbench's tree (the command that builds your benchmark binary into \$QB_BUILD_DIR)"
[ -n "$bench" ] || bad "--bench is required outside qbench's tree (your benchmark binary, relative to \$QB_BUILD_DIR)"
[ -n "$suite" ] || bad "--suite is required outside qbench's tree (a qbench --config file in your repository)"
[ -f "$suite" ] || bad "--suite: no such file in the working tree: $suite"

mkdir -p "$out/work"
out=$(cd "$out" && pwd)
work=$out/work
# One suite for both sides, the working tree's, copied before anything runs.
cp "$suite" "$work/suite.toml"
rm -f "$out"/base.csv "$out"/candidate.csv "$out"/base-ts.csv "$out"/candidate-ts.csv \
  "$out"/compare.txt "$out"/compare.md

# The base, checked out in a detached worktree; both sides build into fresh folders.
worktree=$work/base-src
if [ -d "$worktree" ]; then git worktree remove --force "$worktree" 2>/dev/null || rm -rf "$worktree"; fi
git worktree prune
git worktree add --quiet --detach "$worktree" "$base_sha"
trap 'git -C "$top" worktree remove --force "$worktree" >/dev/null 2>&1 || true' EXIT

build_side() {  # side, source folder
  local side=$1 src=$2 dir=$work/build-$1
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "=== building $side ($src)"
  (cd "$src" && QB_BUILD_DIR=$dir bash -c "$build_cmd") ||
    bad "the $side's build failed: $build_cmd"
  [ -x "$dir/$bench" ] || bad "the $side's build made no executable $dir/$bench (--bench is relative to \$QB_BUILD_DIR)"
}
build_side base "$worktree"
build_side candidate "$top"

for ((r = 1; r <= rounds; r++)); do
  for side in base candidate; do
    echo "=== round $r/$rounds: $side"
    # Each round is one repetition (the suite's own --reps and --warmup are overridden); the
    # seed follows the round so both sides see the same Poisson gaps. A failed or stalled run
    # is written with its verdict; compare reports it.
    "$work/build-$side/$bench" run --config "$work/suite.toml" --reps 1 --warmup 0 --seed "$r" \
      --quiet \
      --out "$out/$side.csv" --timeseries "$out/$side-ts.csv" || true
  done
done

echo "=== compare"
cand=$work/build-candidate/$bench
status=0
# shellcheck disable=SC2086
"$cand" compare "$out/base.csv" "$out/candidate.csv" $compare_args | tee "$out/compare.txt" ||
  status=${PIPESTATUS[0]}
# shellcheck disable=SC2086
"$cand" compare "$out/base.csv" "$out/candidate.csv" $compare_args --markdown \
  >"$out/compare.md" || true

if [ "$figures" = 1 ] && [ -x /usr/bin/python3 ] && [ -f "$scripts_dir/plot.py" ]; then
  /usr/bin/python3 "$scripts_dir/plot.py" "$out/base.csv" "$out/candidate.csv" \
    --out "$out/figures" >/dev/null || echo "perf-check: figures failed (the comparison stands)" >&2
  /usr/bin/python3 "$scripts_dir/report.py" "$out/base.csv" "$out/candidate.csv" \
    --out "$out/report.html" >/dev/null || echo "perf-check: report failed" >&2
fi
echo "=== results in $out/ (base.csv, candidate.csv, compare.txt, compare.md)"
exit "$status"
