// Microbenchmark: the JavaScript cost of one request on the raw-socket server (wire/H1Conn):
// parse, dispatch to the bench router, serialize, write, over a socket that takes every write
// at once (no syscalls, no event loop between requests for sync handlers). What it leaves out
// is the runtime's socket work, which the HTTP load bench (`bench/http/`) measures with it.
// Run on each runtime, pinned to one core:
//   taskset -c 0 node --import tsx bench/wire/path.bench.ts [get|user|post]
//   taskset -c 0 bun bench/wire/path.bench.ts [get|user|post]
//   taskset -c 0 deno run -A bench/wire/path.bench.ts [get|user|post]
// Prints µs per request (median and best of 7 rounds of 100,000 requests, after 5 warm-up rounds).
import { H1Conn } from "../../src/adapters/wire/h1-conn.ts";
import { H1Server } from "../../src/adapters/wire/h1-server.ts";
import type { WireSocket } from "../../src/adapters/wire/socket.ts";
import { useByteSlabs } from "../../src/core/bytes.ts";
import { DEFAULT_SERVER_CONFIG } from "../../src/core/config.ts";
import { benchRouter } from "../http/servers/_tako.ts";

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
// As the Deno engine does (core/bytes.ts); Bun and Node leave slabs off.
if (g.Deno !== undefined) useByteSlabs(true);
const route = (g.Deno?.args[0] ?? g.process?.argv[2] ?? "get") as "get" | "user" | "post";
const runtime = g.Deno !== undefined ? "deno" : "Bun" in globalThis ? "bun" : "node";

let written = 0;
let wake: (() => void) | null = null;
const socket: WireSocket = {
  write(bytes) {
    written += bytes.length;
    wake?.();
    return bytes.length;
  },
  end() {},
  shutdown() {},
  terminate() {},
  pause() {},
  resume() {},
  setNoDelay: () => true,
  remoteAddress: "127.0.0.1",
  remotePort: 40000,
  localAddress: "127.0.0.1",
  localPort: 8080,
  remoteFamily: "IPv4",
};
const server = new H1Server(() => ({ local: { address: "127.0.0.1", port: 8080, family: "IPv4" }, unixPath: null, stop() {} }));
server.serve(benchRouter(), DEFAULT_SERVER_CONFIG);
const conn = new H1Conn(socket, server, Date.now());
server.accept(conn);

// The requests wrk sends in bench/http (its POST body is bench/http/wrk/post-echo.lua's).
const body = '{"name":"tako","id":42,"tags":["http","bench"],"active":true}';
const REQUESTS = {
  get: "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
  user: "GET /users/42 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
  post: `POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
};
const request = new TextEncoder().encode(REQUESTS[route]);
/** The runtime's read buffer, reused for every read as Bun and the Deno engine do. */
const readBuffer = new Uint8Array(16 * 1024);

async function round(n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    readBuffer.set(request);
    const before = written;
    conn.data(readBuffer.subarray(0, request.length));
    // An async handler (POST) answers in a later microtask: wait for its write.
    while (written === before) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
  return ((performance.now() - t0) * 1000) / n;
}

for (let i = 0; i < 5; i++) await round(50_000);
const rounds: number[] = [];
for (let i = 0; i < 7; i++) rounds.push(await round(100_000));
rounds.sort((a, b) => a - b);
console.log(`${runtime} ${route}: ${rounds[3]!.toFixed(3)} µs per request (median of 7 rounds; best ${rounds[0]!.toFixed(3)})`);
// The server's sweep timer would keep the process alive.
(g as { process?: { exit(code: number): never } }).process?.exit(0);
