#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs the whole suite three times:
# a Release build, then a ThreadSanitizer build and an AddressSanitizer+UBSan build, each in its
# own build directory. Exits non-zero on any failure.
#   scripts/test.sh               all three
#   QB_SANITIZERS=none scripts/test.sh   the Release build only (quick local loop)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --plots
echo "=== dependencies checked in $SECONDS s"
jobs=$(nproc)
timeout_s=${QB_TEST_TIMEOUT:-300}
start=$(date +%s)

run_suite() {  # name, build dir, extra cmake args...
  local name=$1 dir=$2 t0=$SECONDS
  shift 2
  echo "=== [$name] configure + build ($dir)"
  cmake -S . -B "$dir" -DQB_TEST_TIMEOUT="$timeout_s" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "=== [$name] built in $((SECONDS - t0)) s; tests"
  t0=$SECONDS
  # One job per core; the thread-heavy tests are RUN_SERIAL (CMakeLists.txt): two of them at once
  # on a 2-core machine would oversubscribe it and turn spin-wait tests into scheduler tests.
  ctest --test-dir "$dir" --output-on-failure --timeout "$timeout_s" -j "$jobs"
  echo "=== [$name] tests passed in $((SECONDS - t0)) s"
}

run_suite release build/release -DCMAKE_BUILD_TYPE=Release

# The user's route (docs/your-queue.md): install the Release build into a temporary prefix, build
# examples/your-queue against that prefix alone, run its conformance test and its queue beside
# built-in ones; then the Debian package's name and metadata.
install_route() {
  local prefix dir=build/your-queue t_route=$SECONDS
  prefix=$(mktemp -d)
  echo "=== [install] qbench into $prefix; examples/your-queue built against it alone"
  cmake --install build/release --prefix "$prefix" >/dev/null
  rm -rf "$dir"
  local t0=$SECONDS
  cmake -S examples/your-queue -B "$dir" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "=== [install] your-queue and its conformance test configured and built in $((SECONDS - t0)) s"
  ctest --test-dir "$dir" --output-on-failure --timeout "$timeout_s" -j 1 --no-tests=error
  # Through a file: `grep -q` would close the pipe early, and pipefail would count the writer's
  # SIGPIPE as a failure.
  "$dir/your-queue" list >"$prefix/list.txt"
  grep -q "batch_cv .*YOURS" "$prefix/list.txt"
  "$dir/your-queue" run -q batch_cv,mutex_cv -w steady -r 50k -p 2 -c 2 -d 1s --reps 1 --warmup 0 \
    --quiet \
    --out "$prefix/your-queue.csv"
  grep -q ",batch_cv," "$prefix/your-queue.csv"
  grep -q ",mutex_cv," "$prefix/your-queue.csv"
  "$prefix/bin/qbench-plot" --help >/dev/null
  rm -rf "$prefix"

  echo "=== [deb] cpack -G DEB"
  (cd build/release && cpack -G DEB >/dev/null)
  local version deb
  version=$(sed -n 's/^project(qbench VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
  deb="build/release/qbench_${version}_amd64.deb"
  dpkg-deb --field "$deb" Package Version Architecture Depends
  [ "$(dpkg-deb --field "$deb" Package)" = qbench ]
  [ "$(dpkg-deb --field "$deb" Version)" = "$version" ]
  local depends
  depends=$(dpkg-deb --field "$deb" Depends)
  for need in libboost-dev libconcurrentqueue-dev libcli11-dev cmake g++ libc6 libstdc++6; do
    grep -q "$need" <<<"$depends" || { echo "deb: Depends lacks $need" >&2; exit 1; }
  done
  local contents
  contents=$(dpkg-deb --contents "$deb")
  grep -q "/usr/lib/cmake/qbench/qbenchConfig.cmake" <<<"$contents"
  grep -q "/usr/include/qbench/qbench/testing.hpp" <<<"$contents"
  echo "=== [install] passed in $((SECONDS - t_route)) s"
}
install_route

case "${QB_SANITIZERS:-all}" in
  none) ;;
  *)
    # Sanitizer builds check correctness only: their timings are not results.
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
    export ASAN_OPTIONS="detect_leaks=1 abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
    run_suite thread-sanitizer build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DQB_SANITIZE=thread -DQB_BUILD_BENCH=OFF
    run_suite address+undefined-sanitizer build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DQB_SANITIZE=address,undefined -DQB_BUILD_BENCH=OFF
    ;;
esac
echo "=== all suites passed in $(( $(date +%s) - start )) s"
