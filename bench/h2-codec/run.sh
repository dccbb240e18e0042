#!/usr/bin/env bash
# h2load against each server of probe.ts, pinned: server on core 0, h2load on core 1.
# Usage: bench/h2-codec/run.sh [runs]   (prints every run and the median per server)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
BUN=node_modules/.bin/bun
LOAD=(taskset -c 1 h2load -c 32 -m 10 -D 5 --warm-up-time 1)
run_one() { # name, command...
  local name=$1; shift
  local log; log=$(mktemp)
  PORT=0 taskset -c 0 "$@" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q '^READY' "$log" && break; sleep 0.1; done
  local port; port=$(awk '/^READY/ {print $2}' "$log")
  local results=()
  for _ in $(seq "$RUNS"); do
    local out; out=$("${LOAD[@]}" "http://127.0.0.1:$port/")
    local rps; rps=$(awk '/^finished in/ {print $4}' <<<"$out")
    local ok; ok=$(awk '/^status codes:/ {print $3}' <<<"$out")
    local done_; done_=$(awk '/^requests:/ {print $8}' <<<"$out")
    results+=("$rps")
    echo "$name run: $rps req/s (2xx $ok of $done_ done)"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local median; median=$(printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "MEDIAN $name $median"
}
run_one bun-codec "$BUN" bench/h2-codec/probe.ts codec
run_one bun-serve "$BUN" bench/h2-codec/probe.ts serve
run_one bun-node-http2 "$BUN" bench/h2-codec/probe.ts http2
run_one node-codec node --import tsx bench/h2-codec/probe.ts codec
run_one node-http2 node --import tsx bench/h2-codec/probe.ts http2
