#!/usr/bin/env bash
# Installs the Debian 12 packages qbench needs, only those that are missing.
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh --plots    also python3-matplotlib (figures)
#   scripts/deps.sh --bench-tools   also Google Benchmark's compare.py and SciPy
# Needs root (or sudo) only when something is missing.
set -euo pipefail

pkgs=(g++ cmake make libboost-dev libconcurrentqueue-dev libcli11-dev libgtest-dev
      libbenchmark-dev libtbb-dev libatomic-queue-dev dpkg-dev)
for arg in "$@"; do
  case "$arg" in
    --plots) pkgs+=(python3-matplotlib) ;;
    --bench-tools) pkgs+=(libbenchmark-tools python3-scipy) ;;  # Google Benchmark's compare.py
    *) echo "deps.sh: unknown option '$arg' (accepted: --plots, --bench-tools)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "deps.sh: missing packages (${missing[*]}) and not root: install them as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
