#!/usr/bin/env bash
# The benchmark suite: `npm run bench` (or `bash bench/run.sh`). Arguments go to the HTTP bench,
# e.g. `npm run bench -- --runtime node --rounds 1 --duration 2` (`--help` lists them).
# The HTTP/1.1 bench (wrk) runs first, then the cleartext HTTP/2 one (h2load; `npm run bench:h2`
# alone), then the TLS ones (`npm run bench:tls` alone): HTTPS/1.1 (wrk), HTTP/2 over TLS (h2load)
# and handshakes (wrk, a new connection per request); the arguments go to all. Server pinned to
# CPU 0, load generator to CPU 1; needs Linux, 2+ CPUs, taskset, wrk and h2load (the last two
# installed here), and the openssl CLI for the development certificate of the TLS benches.
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
# install_tool COMMAND DEBIAN_PACKAGE: installs the package with apt-get when the command is missing.
install_tool() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "bench: $1 not found, installing it with apt-get" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "bench: not root; install $1 yourself (apt-get install -y $2)" >&2
      exit 1
    fi
    apt-get update
    apt-get install -y "$2"
  fi
}
install_tool wrk wrk
install_tool h2load nghttp2-client
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs at least 2 CPUs (server on CPU 0, load generator on CPU 1)" >&2
  exit 1
fi

mkdir -p bench/results
stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"

echo "== router lookup (tako match vs find-my-way find), pinned to CPU 0"
taskset -c 0 node --import tsx bench/router/router.bench.ts --json "bench/results/router-${stamp}.json"

# http_bench TITLE ARGS...: one run of the HTTP bench, under a heading.
http_bench() {
  echo
  echo "== $1"
  shift
  node --import tsx bench/http/run.ts "$@"
}
http_bench "HTTP/1.1 (wrk)" "$@"
http_bench "HTTP/2 cleartext, h2c (h2load)" --proto h2c "$@"
http_bench "HTTPS/1.1 (wrk)" --proto h1s "$@"
http_bench "HTTP/2 over TLS, ALPN h2 (h2load)" --proto h2s "$@"
http_bench "TLS handshakes, a new HTTPS connection per request (wrk)" --proto hs "$@"
