#!/usr/bin/env bash
# h2load against each server of probe.ts, pinned: servers on core 0, h2load on core 1.
# All servers start first (idle ones cost nothing); then each round loads each server once, so
# noise from the machine falls on every server alike. Prints every run and the median per server
# of req/s and of the server's CPU time per request (user + system, from /proc; less sensitive to
# other load on the machine than req/s).
# Usage: bench/h2-codec/run.sh [rounds] [servers…]   servers: bun-codec bun-codec-huffman bun-serve bun-node-http2 node-codec node-http2
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
shift || true
SERVERS=("$@")
[ ${#SERVERS[@]} -eq 0 ] && SERVERS=(bun-codec bun-serve bun-node-http2 node-codec node-http2)
BUN=node_modules/.bin/bun
LOAD=(taskset -c 1 h2load -c 32 -m 10 -D 5 --warm-up-time 1)
declare -A PORT PID RESULTS CPU
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cleanup() { for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null || true; done; }
trap cleanup EXIT
for s in "${SERVERS[@]}"; do
  case $s in
    bun-codec) cmd=("$BUN" bench/h2-codec/probe.ts codec) ;;
    bun-codec-huffman) cmd=(env H2_HUFFMAN=1 "$BUN" bench/h2-codec/probe.ts codec) ;;
    bun-serve) cmd=("$BUN" bench/h2-codec/probe.ts serve) ;;
    bun-node-http2) cmd=("$BUN" bench/h2-codec/probe.ts http2) ;;
    node-codec) cmd=(node --import tsx bench/h2-codec/probe.ts codec) ;;
    node-http2) cmd=(node --import tsx bench/h2-codec/probe.ts http2) ;;
    *) echo "unknown server $s"; exit 2 ;;
  esac
  log=$(mktemp)
  PORT=0 taskset -c 0 "${cmd[@]}" >"$log" 2>&1 &
  PID[$s]=$!
  for _ in $(seq 100); do grep -q '^READY' "$log" && break; sleep 0.1; done
  PORT[$s]=$(awk '/^READY/ {print $2}' "$log")
done
for r in $(seq "$ROUNDS"); do
  for s in "${SERVERS[@]}"; do
    before=$(cpu_ticks "${PID[$s]}")
    out=$("${LOAD[@]}" "http://127.0.0.1:${PORT[$s]}/")
    after=$(cpu_ticks "${PID[$s]}")
    rps=$(awk '/^finished in/ {print $4}' <<<"$out")
    ok=$(awk '/^status codes:/ {print $3}' <<<"$out")
    done_=$(awk '/^requests:/ {print $8}' <<<"$out")
    # CPU over the whole run (warm-up included) per request counted (measurement window only):
    # an overestimate shared by every server alike.
    us=$(awk -v t=$((after - before)) -v k="$TICK_US" -v n="$done_" 'BEGIN {printf "%.2f", t * k / n}')
    RESULTS[$s]="${RESULTS[$s]:-} $rps"
    CPU[$s]="${CPU[$s]:-} $us"
    echo "round $r $s: $rps req/s, server CPU ${us} µs/req (2xx $ok of $done_ done)"
  done
done
for s in "${SERVERS[@]}"; do
  median=$(tr ' ' '\n' <<<"${RESULTS[$s]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  cpu=$(tr ' ' '\n' <<<"${CPU[$s]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "MEDIAN $s $median req/s, $cpu µs CPU/req"
done
