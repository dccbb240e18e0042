#!/usr/bin/env bash
# The benchmark suite: `npm run bench` (or `bash bench/run.sh`). Arguments go to the HTTP bench,
# e.g. `npm run bench -- --runtime node --rounds 1 --duration 2` (`--help` lists them).
# Server pinned to CPU 0, wrk to CPU 1; needs Linux, 2+ CPUs, taskset and wrk (installed here).
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
  if [ "$arg" = "-h" ] || [ "$arg" = "--help" ]; then
    exec node --import tsx bench/http/run.ts --help
  fi
done

if ! command -v taskset >/dev/null 2>&1; then
  echo "bench: taskset (util-linux) is required" >&2
  exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk not found, installing it with apt-get" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: not root; install wrk yourself (apt-get install -y wrk)" >&2
    exit 1
  fi
  apt-get update
  apt-get install -y wrk
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs at least 2 CPUs (server on CPU 0, wrk on CPU 1)" >&2
  exit 1
fi

mkdir -p bench/results
stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"

echo "== router lookup (tako match vs find-my-way find), pinned to CPU 0"
taskset -c 0 node --import tsx bench/router/router.bench.ts --json "bench/results/router-${stamp}.json"

echo
echo "== HTTP (wrk)"
node --import tsx bench/http/run.ts "$@"
