/**
 * HTTP benchmark: tako against each runtime's raw server and popular frameworks, the same three
 * routes everywhere, over HTTP/1.1 measured with wrk (`--proto h1`, the default), over cleartext
 * HTTP/2 with prior knowledge measured with h2load (`--proto h2c`), and over TLS: HTTPS/1.1 with
 * wrk (`--proto h1s`), HTTP/2 negotiated by ALPN with h2load (`--proto h2s`), and TLS handshakes,
 * one new HTTPS connection per request, with wrk (`--proto hs`).
 *
 *   node --import tsx bench/http/run.ts [--proto h1|h2c|h1s|h2s|hs] [--runtime node,bun,deno] [--rounds 3]
 *        [--duration 5] [--warmup 2] [--connections 64] [--streams 10] [--only tako,raw,...]
 *        [--noise 0.1] [--retries 2]
 *
 * Method: the server runs pinned to CPU 0 (`taskset -c 0`), the load generator to CPU 1
 * (`taskset -c 1`, one thread); this script also moves itself to CPU 1 so it never competes with
 * the server. For each runtime and round, contenders run one after another in an order rotated
 * every round (interleaved, so drift hits everyone alike). Each server is started fresh, checked
 * for correct answers on all three routes over the protocol under test (loud failure otherwise),
 * warmed up, then measured route by route, then its whole process group is killed. A run whose
 * load generator reports error answers, failed requests or socket errors, or whose server died,
 * is flagged: a server that answers errors fast must not win. Tables show medians over rounds.
 *
 * h1: `wrk -t1 -c64 -d5s`, 64 keep-alive connections with one request in flight each; the
 * warm-up is one wrk run cycling through the three requests. Checked with fetch().
 *
 * h2c: `h2load -t1 -c16 -m10 -D 5s --warm-up-time=2s` (POST: `-d <file> -H 'content-type:
 * application/json'`): 16 connections × 10 concurrent streams, 160 requests in flight. Streams,
 * not connections, are what HTTP/2 multiplies (a browser or a proxy sends many requests on one
 * connection), so each connection carries several; 16 connections still keep per-connection
 * session handling in play rather than one session's batching. Against the servers on CPU 0,
 * h2load on its one core used 15-30% of it against node:http2 (~30k req/s) and about 60% against
 * Bun.serve at ~100k req/s with these settings, so the server saturates first (the h2load share
 * is printed with every run: near 100% would mean the load generator is the bottleneck). With
 * -m1 h2load needs about twice the CPU per request and every server pays a frame and a syscall
 * per request: that measures HTTP/1.1-style lockstep, not HTTP/2. -m32 and up (or -c1 -m100) add
 * queueing latency, 3-5× the mean time per request, for little or no throughput on one server
 * core. The warm-up is h2load's own `--warm-up-time` before each route (h2load sends one method per
 * run, so no mixed run): connections are set up and the route's code is hot before its measured
 * window, and req/s and the request counts cover that window only. Checked with a node:http2
 * client (prior knowledge).
 *
 * TLS: every server presents the demo's development certificate (examples/demo/dev-cert.ts, ECDSA
 * P-256, made once with the openssl CLI); each raw baseline keeps its runtime's TLS defaults
 * (protocol versions, suites, session resumption), tako its own policy (TLS 1.2+, forward-secret
 * AEAD suites, server order). The check client (Node's, verifying against the development CA)
 * reports the version and suite it negotiated with each server, h2load those it negotiated.
 * h1s: `https://` and the h1 wrk settings above (keep-alive: one handshake per connection, then
 * requests). h2s: `https://` and the h2c h2load settings above; h2load takes whatever ALPN
 * selects, so a run that did not speak h2 is flagged. hs: wrk as for h1 with `-H 'Connection:
 * close'` on GET / only: each request opens a TCP connection, completes a TLS handshake, gets its
 * answer and the server closes; requests/s is handshakes/s. The handshake (key exchange and the
 * certificate signature) costs far more than any route, so one route says it all; GET / keeps the
 * rest of the request smallest. wrk offers the previous session of a connection slot when it
 * reconnects (OpenSSL keeps it), and a server that resumes it skips the certificate signature:
 * against node:https about every other handshake was resumed, so the rate mixes full and resumed
 * handshakes; the check (a new connection per request with the session cache of Node's client)
 * reports whether each server resumes. The client side of a handshake costs wrk about as much CPU
 * as the server's side costs the server, so wrk may saturate its CPU first: a run where the load
 * generator used 90% of its CPU or more is marked ‡ (in every protocol), and the hs table adds the
 * server's CPU time per connection (handshake and request), which does not depend on how fast the
 * load generator is.
 *
 * Shared machines: the CPU time of the server, the load generator and this script is accounted
 * against what each CPU did during every run; a run during which other processes took a
 * noticeable share (`--noise`) is redone once the machine is quiet (`--retries`), and marked if
 * it never was. tako servers load src/ at start, so src/ is fingerprinted at every start and a
 * change during the run is reported. Results: a markdown table per runtime on stdout, raw numbers
 * in bench/results/http-*.json (h1) or bench/results/http-<proto>-*.json (the others).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TLSSocket } from "node:tls";
import { isDeepStrictEqual } from "node:util";
import { devCert, type DevCert } from "../../examples/demo/dev-cert.ts";
import { buildPackage, NODE_SERVER } from "../node-package.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const SERVERS = join(HERE, "servers");
const WRK_DIR = join(HERE, "wrk");
const RESULTS = join(ROOT, "bench", "results");
const BIN = join(ROOT, "node_modules", ".bin");
const SERVER_CPU = "0";
const CLIENT_CPU = "1";

type Runtime = "node" | "bun" | "deno";
const RUNTIMES: readonly Runtime[] = ["node", "bun", "deno"];

type Proto = "h1" | "h2c" | "h1s" | "h2s" | "hs";
const PROTOS: readonly Proto[] = ["h1", "h2c", "h1s", "h2s", "hs"];

/** The protocols over TLS: https:// URLs, the development certificate, checks against its CA. */
const overTls = (proto: Proto): boolean => proto === "h1s" || proto === "h2s" || proto === "hs";
const origin = (proto: Proto, port: number): string => `${overTls(proto) ? "https" : "http"}://127.0.0.1:${port}`;

interface Contender {
  /** Short id used by `--only`. */
  readonly id: string;
  /** Column title. */
  readonly label: string;
  readonly runtime: Runtime;
  readonly file: string;
  /** The baseline ratios are computed against. */
  readonly baseline?: true;
}

/**
 * TLS contenders: per runtime, the raw server (its runtime's defaults and the development
 * certificate; `raw` gives its column title and file) as the baseline, then tako's `spawnTls`
 * (one file for both benches: ALPN picks HTTP/1.1 or HTTP/2).
 */
function tlsContenders(
  raw: Readonly<Record<Runtime, { label: string; file: string }>>,
  peers: Readonly<Record<Runtime, readonly Omit<Contender, "runtime">[]>>,
  http1Only = false,
): Contender[] {
  return RUNTIMES.flatMap((runtime): Contender[] => [
    { id: "raw", ...raw[runtime], runtime, baseline: true },
    { id: "tako", label: "tako (serveTls)", runtime, file: "tako-tls.ts" },
    // The certificate from a resolver: on Deno, node:tls over each Deno.listen connection.
    { id: "tako-resolver", label: "tako (serveTls, a resolver)", runtime, file: "tako-tls-resolver.ts" },
    // HTTP/2 switched off (ALPN offers only http/1.1): on Bun, TLS on its Bun.listen path.
    ...(http1Only ? [{ id: "tako-h1", label: "tako (serveTls, http2 off)", runtime, file: "tako-tls-h1.ts" }] : []),
    ...peers[runtime].map((peer) => ({ ...peer, runtime })),
  ]);
}

const TLS_CONTENDERS: Readonly<Record<"h1s" | "h2s", readonly Contender[]>> = {
  h1s: tlsContenders(
    {
      node: { label: "raw node:https", file: "raw-node-https.mjs" },
      bun: { label: "raw Bun.serve (tls)", file: "raw-bun-tls.ts" },
      deno: { label: "raw Deno.serve (cert, key)", file: "raw-deno-tls.ts" },
    },
    // The peers on their runtime's server with the same certificate (Bun.serve's `tls`, Deno.serve's cert and key).
    {
      node: [],
      bun: [
        { id: "elysia", label: "elysia (tls)", file: "elysia-bun-tls.ts" },
        { id: "hono", label: "hono (tls)", file: "hono-bun-tls.ts" },
      ],
      deno: [{ id: "hono", label: "hono (cert, key)", file: "hono-deno-tls.ts" }],
    },
    true,
  ),
  h2s: tlsContenders(
    {
      node: { label: "raw node:http2 secure (stream API)", file: "raw-node-h2s.mjs" },
      bun: { label: "raw Bun.serve (tls, http2)", file: "raw-bun-h2s.ts" },
      // Deno.serve with a certificate offers h2 by ALPN on its own: the HTTPS/1.1 baseline file.
      deno: { label: "raw Deno.serve (cert, key)", file: "raw-deno-tls.ts" },
    },
    {
      node: [],
      bun: [
        { id: "elysia", label: "elysia (tls, http2)", file: "elysia-bun-h2s.ts" },
        { id: "hono", label: "hono (tls, http2)", file: "hono-bun-h2s.ts" },
      ],
      deno: [{ id: "hono", label: "hono (cert, key)", file: "hono-deno-tls.ts" }],
    },
  ),
};

const CONTENDERS: Readonly<Record<Proto, readonly Contender[]>> = {
  h1: [
    { id: "raw", label: "raw node:http", runtime: "node", file: "raw-node.mjs", baseline: true },
    { id: "tako", label: "tako", runtime: "node", file: "tako.ts" },
    // Observability (docs/observability.md): a raw channel subscriber; tako/otel with the SDK.
    { id: "tako-dc", label: "tako + channel subscriber", runtime: "node", file: "tako-dc.ts" },
    { id: "tako-otel", label: "tako + tako/otel (SDK)", runtime: "node", file: "tako-otel.ts" },
    { id: "tako-fields", label: "tako (every connection field set)", runtime: "node", file: "tako-fields.ts" },
    { id: "fastify", label: "fastify", runtime: "node", file: "fastify-node.ts" },
    { id: "hono", label: "hono (@hono/node-server)", runtime: "node", file: "hono-node.ts" },
    { id: "raw", label: "raw Bun.serve", runtime: "bun", file: "raw-bun.ts", baseline: true },
    { id: "tako", label: "tako", runtime: "bun", file: "tako.ts" },
    // Observability (docs/observability.md): a raw channel subscriber; tako/otel with the SDK.
    { id: "tako-dc", label: "tako + channel subscriber", runtime: "bun", file: "tako-dc.ts" },
    { id: "tako-otel", label: "tako + tako/otel (SDK)", runtime: "bun", file: "tako-otel.ts" },
    { id: "tako-fields", label: "tako (every connection field set but acceptBackoff)", runtime: "bun", file: "tako-fields.ts" },
    // Bun's node:http listening itself, no framework (for reference: tako on Bun is on Bun.listen).
    { id: "node-http", label: "raw node:http (Bun's)", runtime: "bun", file: "raw-node.mjs" },
    { id: "elysia", label: "elysia", runtime: "bun", file: "elysia-bun.ts" },
    { id: "hono", label: "hono", runtime: "bun", file: "hono-bun.ts" },
    { id: "raw", label: "raw Deno.serve", runtime: "deno", file: "raw-deno.ts", baseline: true },
    { id: "tako", label: "tako", runtime: "deno", file: "tako.ts" },
    // Observability (docs/observability.md): a raw channel subscriber; tako/otel with the SDK.
    { id: "tako-dc", label: "tako + channel subscriber", runtime: "deno", file: "tako-dc.ts" },
    { id: "tako-otel", label: "tako + tako/otel (SDK)", runtime: "deno", file: "tako-otel.ts" },
    { id: "tako-fields", label: "tako (every connection field set)", runtime: "deno", file: "tako-fields.ts" },
    { id: "hono", label: "hono", runtime: "deno", file: "hono-deno.ts" },
  ],
  h2c: [
    { id: "raw", label: "raw node:http2 (stream API)", runtime: "node", file: "raw-node-h2.mjs", baseline: true },
    { id: "tako", label: "tako (serveH2c)", runtime: "node", file: "tako-h2c.ts" },
    { id: "fastify", label: "fastify (http2)", runtime: "node", file: "fastify-node-h2.ts" },
    { id: "raw", label: "raw Bun.serve (http2)", runtime: "bun", file: "raw-bun-h2.ts", baseline: true },
    { id: "tako", label: "tako (serveH2c)", runtime: "bun", file: "tako-h2c.ts" },
    { id: "elysia", label: "elysia (http2)", runtime: "bun", file: "elysia-bun-h2.ts" },
    { id: "hono", label: "hono (http2)", runtime: "bun", file: "hono-bun-h2.ts" },
    // Deno.serve answers h2c prior knowledge on its own: the HTTP/1.1 baseline file, unchanged.
    { id: "raw", label: "raw Deno.serve", runtime: "deno", file: "raw-deno.ts", baseline: true },
    { id: "tako", label: "tako (serveH2c)", runtime: "deno", file: "tako-h2c.ts" },
    { id: "hono", label: "hono", runtime: "deno", file: "hono-deno.ts" },
  ],
  h1s: TLS_CONTENDERS.h1s,
  h2s: TLS_CONTENDERS.h2s,
  // New connection per request: the servers of the HTTPS/1.1 bench.
  hs: TLS_CONTENDERS.h1s,
};

/**
 * How each runtime runs a server file (one process, so its pid is the process group leader). On
 * Node, tsx compiles the server file and tako comes from the checkout's compiled package
 * (`bench/node-dist.mjs`, built by {@link buildPackages}), as a Node user runs it.
 */
function command(runtime: Runtime, file: string): string[] {
  if (runtime === "node") return [...NODE_SERVER, file];
  if (runtime === "bun") return [join(BIN, "bun"), file];
  return [join(BIN, "deno"), "run", "-A", "--no-lock", file];
}

interface Route {
  readonly name: string;
  readonly method: "GET" | "POST";
  readonly path: string;
}

const ROUTES: readonly Route[] = [
  { name: "GET /", method: "GET", path: "/" },
  { name: "GET /users/{id}", method: "GET", path: "/users/42" },
  { name: "POST /echo (JSON)", method: "POST", path: "/echo" },
];

/**
 * The routes measured per protocol. hs measures the handshake, which costs far more than any
 * route's code: GET / alone (the cheapest answer, so the handshake dominates the most).
 */
const routesOf = (proto: Proto): readonly Route[] => (proto === "hs" ? ROUTES.slice(0, 1) : ROUTES);

/** The POST body, read from the wrk script so the check and both load generators send the same JSON. */
const ECHO_BODY = (() => {
  const m = /wrk\.body\s*=\s*'([^']*)'/.exec(readFileSync(join(WRK_DIR, "post-echo.lua"), "utf8"));
  if (m === null) throw new Error("bench/http/wrk/post-echo.lua: cannot find wrk.body");
  return m[1]!;
})();

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  proto: Proto;
  runtimes: Runtime[];
  rounds: number;
  duration: number;
  warmup: number;
  /** Connections of the load generator (default: DEFAULT_CONNECTIONS of the protocol). */
  connections: number;
  /** h2c, h2s: concurrent streams per connection (h2load -m). */
  streams: number;
  only: string[] | null;
  /** Share of a CPU other workloads may take during a run before it is redone. */
  noise: number;
  retries: number;
  /** Another checkout of tako (e.g. a worktree of the base commit) whose tako servers run as contender "base". */
  base: string | null;
}

const DEFAULT_CONNECTIONS: Readonly<Record<Proto, number>> = { h1: 64, h2c: 16, h1s: 64, h2s: 16, hs: 64 };

const USAGE = `usage: node --import tsx bench/http/run.ts [options]
  --proto P          h1: HTTP/1.1 with wrk (default); h2c: cleartext HTTP/2, prior knowledge, with h2load;
                     h1s: HTTPS/1.1 with wrk; h2s: HTTP/2 over TLS (ALPN h2) with h2load;
                     hs: TLS handshakes, a new HTTPS connection per request (wrk, Connection: close)
  --runtime LIST     runtimes to bench, comma separated: node,bun,deno (default: all)
  --rounds N         interleaved rounds per runtime (default 3)
  --duration SECS    measured duration per route (default 5)
  --warmup SECS      warm-up per server before measuring; h2c, h2s: before each route (default 2)
  --connections N    load generator connections (default ${DEFAULT_CONNECTIONS.h1} for h1, h1s and hs, ${DEFAULT_CONNECTIONS.h2c} for h2c and h2s)
  --streams N        h2c, h2s: concurrent streams per connection, h2load -m (default 10; wrk ignores it)
  --noise SHARE      redo a run when other processes took more than this share of the server CPU
                     (twice that of the load generator's CPU, which also carries loopback kernel
                     work) (default 0.1)
  --retries N        how many times a noisy run is redone (default 2)
  --only LIST        contender ids to run, e.g. tako,raw (ids: ${[...new Set(PROTOS.flatMap((p) => CONTENDERS[p].map((c) => c.id)))].join(", ")}, base)
  --base DIR         also run DIR's tako servers (a checkout of the base commit, e.g. a git worktree)
                     as contender "base", interleaved with this tree's in the same run`;

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { proto: "h1", runtimes: [...RUNTIMES], rounds: 3, duration: 5, warmup: 2, connections: 0, streams: 10, only: null, noise: 0.1, retries: 2, base: null };
  const positive = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) fail(`--${name} needs an integer >= ${min}, got ${String(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--proto": {
        const v = value();
        if (!PROTOS.includes(v as Proto)) fail(`--proto needs one of ${PROTOS.join(", ")}, got ${String(v)}`);
        o.proto = v as Proto;
        break;
      }
      case "--runtime":
      case "--runtimes": {
        const list = (value() ?? "").split(",").filter((s) => s !== "");
        if (list.length === 1 && list[0] === "all") o.runtimes = [...RUNTIMES];
        else {
          for (const r of list) if (!RUNTIMES.includes(r as Runtime)) fail(`unknown runtime "${r}" (node, bun, deno, all)`);
          if (list.length === 0) fail("--runtime needs a value");
          o.runtimes = RUNTIMES.filter((r) => list.includes(r));
        }
        break;
      }
      case "--rounds":
        o.rounds = positive("rounds", value(), 1);
        break;
      case "--duration":
        o.duration = positive("duration", value(), 1);
        break;
      case "--warmup":
        o.warmup = positive("warmup", value(), 0);
        break;
      case "--connections":
        o.connections = positive("connections", value(), 1);
        break;
      case "--streams":
        o.streams = positive("streams", value(), 1);
        break;
      case "--noise": {
        const v = Number(value());
        if (!(v > 0 && v <= 1)) fail("--noise needs a share of a CPU in (0, 1], e.g. 0.1");
        o.noise = v;
        break;
      }
      case "--retries":
        o.retries = positive("retries", value(), 0);
        break;
      case "--only":
        o.only = (value() ?? "").split(",").filter((s) => s !== "");
        break;
      case "--base": {
        const dir = value();
        if (dir === undefined || !existsSync(join(dir, "bench/http/servers"))) fail(`--base needs a tako checkout with bench/http/servers, got ${String(dir)}`);
        o.base = resolve(dir);
        break;
      }
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        fail(`unknown argument "${a}"\n${USAGE}`);
    }
  }
  // bench/run.sh passes the same arguments to the run of every protocol: an id known to any is
  // valid (it selects nothing where it has no server), and the wrk runs ignore --streams.
  for (const id of o.only ?? []) if (id !== "base" && !PROTOS.some((p) => CONTENDERS[p].some((c) => c.id === id))) fail(`unknown contender "${id}"`);
  if (o.connections === 0) o.connections = DEFAULT_CONNECTIONS[o.proto];
  return o;
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  cleanup();
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Processes: every server is its own process group, killed as a group; nothing may outlive us.

const liveGroups = new Set<number>();
/** A temporary directory for files the load generator reads (h2load's POST body), or null. */
let scratchDir: string | null = null;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function cleanup(): void {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  liveGroups.clear();
  if (scratchDir !== null) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = null;
}

process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping servers`);
    cleanup();
    process.exit(130);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Server {
  readonly contender: Contender;
  readonly child: ChildProcess;
  readonly pgid: number;
  readonly port: number;
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;
  /** The last output of the server, for error reports. */
  readonly log: () => string;
}

async function startServer(c: Contender): Promise<Server> {
  const [cmd, ...args] = command(c.runtime, resolve(SERVERS, c.file));
  const child = spawn("taskset", ["-c", SERVER_CPU, cmd!, ...args], {
    cwd: ROOT,
    detached: true, // own process group: killed as a whole
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: "0", NODE_ENV: "production", DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" },
  });
  const pgid = child.pid;
  if (pgid === undefined) fail(`cannot spawn ${cmd}`);
  liveGroups.add(pgid);
  let out = "";
  let tail = "";
  const keep = (s: string): void => {
    tail = (tail + s).slice(-8000);
  };
  // Keep draining both pipes for the server's whole life: a full pipe would block it.
  child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    if (out.length < 10000) out += s;
    keep(s);
  });
  child.stderr!.setEncoding("utf8").on("data", keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((res) => child.once("exit", (code, signal) => res((exitCode = code ?? (signal === null ? null : -1)))));
  const describe = `${c.runtime}/${c.id} (${relative(ROOT, resolve(SERVERS, c.file))})`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /^READY (\d+)\s*$/m.exec(out);
    if (m !== null) {
      const port = Number(m[1]);
      const server: Server = { contender: c, child, pgid, port, exited, exitCode, log: () => tail };
      void exited.then((code) => (server.exitCode = code));
      if (port > 0 && port < 65536) return server;
      await stopServer(server);
      throw new Error(`${describe}: bad READY line: ${JSON.stringify(m[0])}`);
    }
    if (exitCode !== undefined || Date.now() > deadline) {
      await stopServer({ contender: c, child, pgid, port: 0, exited, exitCode, log: () => tail });
      const why = exitCode !== undefined ? `exited (${String(exitCode)}) before READY` : "printed no READY line within 30 s";
      throw new Error(`${describe} ${why}:\n${tail}`);
    }
    await sleep(20);
  }
}

async function stopServer(s: Server): Promise<void> {
  killGroup(s.pgid, "SIGTERM");
  const done = await Promise.race([s.exited.then(() => true), sleep(3000).then(() => false)]);
  if (!done) {
    killGroup(s.pgid, "SIGKILL");
    await s.exited;
  }
  // The leader is gone; make sure no other member of its group (a worker, a child) survives.
  for (let i = 0; groupAlive(s.pgid); i++) {
    if (i === 20) killGroup(s.pgid, "SIGKILL");
    if (i > 60) throw new Error(`process group ${s.pgid} (${s.contender.runtime}/${s.contender.id}) survives SIGKILL`);
    await sleep(50);
  }
  liveGroups.delete(s.pgid);
}

/**
 * A fingerprint of src/ (paths and contents). tako servers load src/ fresh at every start, so
 * when it changes during a run (someone editing), rounds measured different code: reported.
 */
function srcFingerprint(): string {
  const hash = createHash("sha1");
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile())
        hash
          .update(`${relative(ROOT, path)}\0`)
          .update(readFileSync(path))
          .update("\0");
    }
  };
  walk(join(ROOT, "src"));
  return hash.digest("hex").slice(0, 12);
}

/** Peak resident memory of the server process, in MiB (Linux /proc), or null. */
function peakRssMiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

/** Clock ticks per second for /proc times (USER_HZ; 100 on every mainstream Linux build). */
const HZ = Number(tryRun("getconf", ["CLK_TCK"]) ?? "100") || 100;

/** Busy and total jiffies of one CPU from /proc/stat. */
function cpuTimes(cpu: string): { busy: number; total: number } {
  const line = new RegExp(`^cpu${cpu} (.*)$`, "m").exec(readFileSync("/proc/stat", "utf8"));
  if (line === null) return { busy: 0, total: 0 };
  const f = line[1]!.trim().split(/\s+/).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** CPU seconds a process (all its threads) has used so far, or null when it is gone. */
function procCpuSec(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / HZ; // utime + stime
  } catch {
    return null;
  }
}

/** CPU seconds used by this process's children that have been waited for (cutime + cstime). */
function childrenCpuSec(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[13]) + Number(f[14])) / HZ;
}

/** A snapshot to measure what ran on the two CPUs during a load run. */
interface CpuSnap {
  at: number;
  cpu0: { busy: number; total: number };
  cpu1: { busy: number; total: number };
  server: number;
  self: number;
}
function cpuSnap(serverPid: number): CpuSnap {
  const u = process.cpuUsage();
  return { at: performance.now(), cpu0: cpuTimes(SERVER_CPU), cpu1: cpuTimes(CLIENT_CPU), server: procCpuSec(serverPid) ?? 0, self: (u.user + u.system) / 1e6 };
}

/**
 * Shares of one CPU during a run: the server's own use of CPU 0, the load generator's (wrk or
 * h2load) of CPU 1, and the busy time on each CPU that belongs to neither the server, the load
 * generator nor this script ("other": another workload on the machine, plus kernel network work
 * not charged to a process).
 */
interface CpuReport {
  serverShare: number;
  clientShare: number;
  otherOnServerCpu: number;
  otherOnClientCpu: number;
}
function cpuReport(a: CpuSnap, b: CpuSnap, clientCpuSec: number): CpuReport {
  const wall = (b.at - a.at) / 1000;
  const busy0 = ((b.cpu0.busy - a.cpu0.busy) / Math.max(1, b.cpu0.total - a.cpu0.total)) * wall;
  const busy1 = ((b.cpu1.busy - a.cpu1.busy) / Math.max(1, b.cpu1.total - a.cpu1.total)) * wall;
  const server = b.server - a.server;
  const self = b.self - a.self;
  const r = (x: number): number => Math.round(Math.max(0, x / wall) * 1000) / 1000;
  return { serverShare: r(server), clientShare: r(clientCpuSec), otherOnServerCpu: r(busy0 - server), otherOnClientCpu: r(busy1 - clientCpuSec - self) };
}

/** Waits (up to `maxMs`) until the machine is quiet: both CPUs under `threshold` busy for 500 ms. */
async function waitForQuiet(threshold: number, maxMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const a0 = cpuTimes(SERVER_CPU);
    const a1 = cpuTimes(CLIENT_CPU);
    await sleep(500);
    const b0 = cpuTimes(SERVER_CPU);
    const b1 = cpuTimes(CLIENT_CPU);
    const u0 = (b0.busy - a0.busy) / Math.max(1, b0.total - a0.total);
    const u1 = (b1.busy - a1.busy) / Math.max(1, b1.total - a1.total);
    const waited = performance.now() - t0;
    if ((u0 < threshold && u1 < threshold) || waited > maxMs) return waited;
  }
}

// ---------------------------------------------------------------------------------------------
// Correctness check before any load

/** An answer to one check request. */
interface Answer {
  status: number;
  type: string;
  body: string;
  /** Over TLS: what the connection negotiated. */
  tls?: TlsFacts;
  /** HTTP/1.1 over TLS: the Connection header of the answer ("" when absent). */
  connection?: string;
}

interface TlsFacts {
  version: string;
  cipher: string;
  /** The protocol ALPN selected, or "" (none offered or none selected). */
  alpn: string;
  /** The handshake resumed an earlier session. */
  resumed: boolean;
}

function tlsFacts(socket: TLSSocket): TlsFacts {
  return { version: socket.getProtocol() ?? "?", cipher: socket.getCipher().standardName, alpn: socket.alpnProtocol || "", resumed: socket.isSessionReused() };
}

/** One check request; `body` is sent as JSON. */
type CheckCall = (method: string, path: string, body?: string) => Promise<Answer>;

/** The development certificate the TLS servers present (made on first use; see servers/_tls.ts). */
let devCertFiles: DevCert | null = null;
const tlsFiles = (): DevCert => (devCertFiles ??= devCert());

/**
 * A client for the checks of the server at `port`, speaking the protocol under test: fetch (h1),
 * node:https with the development CA (h1s; hs: a new connection per request, `Connection: close`
 * as wrk sends it, with the client's session cache, so the later requests show whether the server
 * resumes TLS sessions), node:http2 (h2c: prior knowledge; h2s: TLS with the CA). `done` frees it.
 */
function checkClient(proto: Proto, port: number): { call: CheckCall; done(): void } {
  const base = origin(proto, port);
  if (proto === "h1") return { call: (method, path, body) => callFetch(base, method, path, body), done() {} };
  const ca = overTls(proto) ? readFileSync(tlsFiles().ca) : undefined;
  if (proto === "h2c" || proto === "h2s") return { call: (method, path, body) => callH2(base, ca, method, path, body), done() {} };
  const agent = new HttpsAgent({ ca, keepAlive: proto !== "hs" });
  return { call: (method, path, body) => callHttps(agent, base, method, path, body), done: () => agent.destroy() };
}

/** One check request over HTTP/1.1 (fetch). */
async function callFetch(base: string, method: string, path: string, body?: string): Promise<Answer> {
  const init: RequestInit = body === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body };
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
}

/** One check request over HTTPS/1.1 (node:https; fetch takes no CA). */
function callHttps(agent: HttpsAgent, base: string, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };
    const req = httpsRequest(`${base}${path}`, { method, headers, agent, timeout: 5000 }, (res) => {
      const tls = tlsFacts(res.socket as TLSSocket);
      const answer: Answer = { status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body: "", tls, connection: res.headers.connection ?? "" };
      res.setEncoding("utf8").on("data", (s: string) => (answer.body += s));
      res.on("end", () => resolve(answer));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * One check request over HTTP/2 (node:http2), on its own session: cleartext with prior knowledge,
 * or TLS (ALPN h2) verified against `ca`.
 */
function callH2(base: string, ca: Buffer | undefined, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(base, ca === undefined ? {} : { ca });
    const settle = (error: Error | null, answer?: Answer): void => {
      clearTimeout(timer);
      session.destroy();
      if (error === null) resolve(answer!);
      else reject(error);
    };
    const timer = setTimeout(() => settle(new Error("no answer within 5 s")), 5000);
    session.on("error", settle);
    const headers = { ":method": method, ":path": path, ...(body === undefined ? {} : { "content-type": "application/json" }) };
    const stream = session.request(headers, { endStream: body === undefined });
    const answer: Answer = { status: 0, type: "", body: "" };
    stream.on("response", (h) => {
      answer.status = Number(h[":status"]);
      answer.type = String(h["content-type"] ?? "");
      if (session.encrypted === true) answer.tls = tlsFacts(session.socket as TLSSocket);
    });
    stream.setEncoding("utf8").on("data", (s: string) => (answer.body += s));
    stream.on("end", () => settle(null, answer));
    stream.on("error", settle);
    // After "end" this settles nothing more; before it, the stream was reset without an answer.
    stream.on("close", () => settle(new Error(`stream closed without an answer (RST_STREAM code ${stream.rstCode})`)));
    if (body !== undefined) stream.end(body);
  });
}

/**
 * Checks the answers of all three routes over the protocol under test; throws when one is wrong.
 * Over TLS, returns what the check client negotiated (and, for hs, how many of its later
 * connections resumed a session), else null.
 */
async function verifyServer(s: Server, proto: Proto): Promise<string | null> {
  const who = `${s.contender.runtime}/${s.contender.id}`;
  const problems: string[] = [];
  const client = checkClient(proto, s.port);
  const negotiated: TlsFacts[] = [];
  let unannouncedClose = false;
  const call = async (path: string, method = "GET", body?: string): Promise<Answer | null> => {
    try {
      const answer = await client.call(method, path, body);
      if (answer.tls !== undefined) negotiated.push(answer.tls);
      if (proto === "hs" && !/\bclose\b/i.test(answer.connection ?? "")) unannouncedClose = true;
      return answer;
    } catch (error) {
      problems.push(`${method} ${path}: request failed: ${String(error)}`);
      return null;
    }
  };
  const expectJson = (what: string, r: Answer | null, want: unknown): void => {
    if (r === null) return;
    let got: unknown;
    try {
      got = JSON.parse(r.body);
    } catch {
      got = Symbol("not JSON");
    }
    if (r.status !== 200 || !r.type.toLowerCase().startsWith("application/json") || !isDeepStrictEqual(got, want)) {
      problems.push(`${what}: got ${r.status} [${r.type}] ${JSON.stringify(r.body.slice(0, 200))}, want 200 [application/json] ${JSON.stringify(want)}`);
    }
  };

  const hello = await call("/");
  if (hello !== null && (hello.status !== 200 || !hello.type.toLowerCase().startsWith("text/plain") || hello.body !== "Hello, World!")) {
    problems.push(`GET /: got ${hello.status} [${hello.type}] ${JSON.stringify(hello.body.slice(0, 200))}, want 200 [text/plain] "Hello, World!"`);
  }
  // The benchmarked id and a fresh one, so an answer cannot be hard-wired.
  const fresh = `u${Math.random().toString(36).slice(2, 10)}`;
  for (const id of ["42", fresh]) expectJson(`GET /users/${id}`, await call(`/users/${id}`), { id });
  expectJson("POST /echo", await call("/echo", "POST", ECHO_BODY), JSON.parse(ECHO_BODY));
  client.done();
  if (problems.length > 0) {
    throw new Error(`${who} answers wrongly, refusing to benchmark it:\n  ${problems.join("\n  ")}\nserver output:\n${s.log()}`);
  }
  const first = negotiated[0];
  if (first === undefined) return null;
  const facts = [...new Set(negotiated.map((t) => `${t.version} ${t.cipher}${t.alpn === "" ? "" : `, ALPN ${t.alpn}`}`))].join(" / ");
  if (proto !== "hs") return facts;
  const resumed = `sessions resumed on ${negotiated.slice(1).filter((t) => t.resumed).length} of ${negotiated.length - 1} later connections`;
  // RFC 9112 9.6: the server SHOULD say `Connection: close` in that answer. Without it wrk takes
  // the connection for kept alive, sends its next request there and counts a read error on the close.
  const close = unannouncedClose ? "; answers a `Connection: close` request without `Connection: close` (wrk then counts a read error per connection)" : "";
  return `${facts}; ${resumed}${close}`;
}

// ---------------------------------------------------------------------------------------------
// Load generators: wrk (h1) and h2load (h2c)

interface LoadResult {
  rps: number;
  requests: number;
  durationSec: number;
  /** Answers with a status other than 2xx (wrk: other than 2xx/3xx). */
  non2xx: number;
  /** wrk: socket errors. */
  socketErrors?: { connect: number; read: number; write: number; timeout: number };
  /** h2load: its request counts (failed includes non-2xx answers; errored and timeout are subsets of failed). */
  requestCounts?: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  /** wrk: p50, p90, p99, max; h2load: min, max, mean, sd (it reports no percentiles). */
  latencyUs: Record<string, number> | null;
  /** h2load: the application protocol it spoke and, over TLS, the version and cipher it negotiated. */
  negotiated?: string;
  /** Why this run cannot be trusted; empty when clean. */
  flags: string[];
  /** CPU use during the run (see CpuReport). */
  cpu?: CpuReport;
  /** Set when another workload took more than NOISE of a CPU during every attempt. */
  noisy?: boolean;
  /** Earlier attempts discarded because the machine was busy with something else. */
  discarded?: { rps: number; cpu: CpuReport }[];
}

interface ClientRun {
  code: number | null;
  out: string;
  /** CPU seconds the load generator used. */
  cpuSec: number;
}

interface LoadGenerator {
  /** Command name, also the key of its version in the results. */
  readonly name: string;
  /** The Debian package that has it (bench/run.sh installs it). */
  readonly aptPackage: string;
  /** Its version line, or null when it is not installed. */
  version(): string | null;
  /** Warm-up run before the routes are measured; returns what went wrong, or null. */
  warmUp(port: number, o: Options): Promise<string | null>;
  /** One measured run on `route`. */
  run(port: number, route: Route, o: Options): Promise<ClientRun>;
  parse(code: number | null, out: string, o: Options): LoadResult;
  /** How every route was measured, for the table footer. */
  describe(o: Options): string;
}

/** Runs the load generator pinned to the client CPU; killed when it outlives `seconds` by 30 s. */
function runClient(args: readonly string[], seconds: number): Promise<ClientRun> {
  return new Promise((res, rej) => {
    const child = spawn("taskset", ["-c", CLIENT_CPU, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    // Its CPU time: what this process's reaped children used grows by it once it is reaped.
    const children0 = childrenCpuSec();
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
    child.once("error", rej);
    child.once("close", (code) => {
      clearTimeout(timer);
      res({ code, out, cpuSec: childrenCpuSec() - children0 });
    });
  });
}

/** The numbers `re` captures in `out`, named by `keys` in order, or null when it does not match. */
function captures<K extends string>(out: string, re: RegExp, keys: readonly K[]): Record<K, number> | null {
  const m = re.exec(out);
  return m === null ? null : (Object.fromEntries(keys.map((k, i) => [k, Number(m[i + 1])])) as Record<K, number>);
}

/** The flags both load generators raise alike. */
function commonFlags(name: string, code: number | null, rps: number | null, r: Pick<LoadResult, "non2xx" | "requests">, non2xxWhat: string): string[] {
  const flags: string[] = [];
  if (code !== 0) flags.push(`${name} exited with ${String(code)}`);
  if (rps === null) flags.push(`no requests/s in ${name} output`);
  if (r.non2xx > 0) flags.push(`${r.non2xx} ${non2xxWhat} responses`);
  if (r.requests === 0) flags.push("no requests completed");
  return flags;
}

/**
 * The headers wrk adds to every request: for hs `Connection: close`, so the server closes each
 * connection after its answer and wrk opens a new one (TCP and TLS handshake) for the next.
 */
const wrkHeaders = (proto: Proto): string[] => (proto === "hs" ? ["Connection: close"] : []);

function runWrk(port: number, path: string, seconds: number, o: Options, script: string): Promise<ClientRun> {
  const args = [
    "wrk",
    "-t1",
    `-c${o.connections}`,
    `-d${seconds}s`,
    "--timeout",
    "5s",
    ...wrkHeaders(o.proto).flatMap((h) => ["-H", h]),
    "-s",
    join(WRK_DIR, script),
    `${origin(o.proto, port)}${path}`,
  ];
  return runClient(args, seconds);
}

const wrk: LoadGenerator = {
  name: "wrk",
  aptPackage: "wrk",
  version: () => tryRun("wrk", ["-v"])?.split("\n")[0] ?? null,
  async warmUp(port, o) {
    if (o.warmup === 0) return null;
    const w = await runWrk(port, "/", o.warmup, o, "warmup-mix.lua");
    const bad = /Non-2xx or 3xx responses:\s+(\d+)/.exec(w.out);
    return w.code !== 0 || bad !== null ? `wrk ${String(w.code)}${bad !== null ? `, ${bad[1]} non-2xx` : ""}` : null;
  },
  run: (port, route, o) => runWrk(port, route.path, o.duration, o, route.method === "POST" ? "post-echo.lua" : "report.lua"),
  parse(code, out) {
    const num = (re: RegExp): number | null => {
      const m = re.exec(out);
      return m === null ? null : Number(m[1]);
    };
    const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
    let socketErrors = captures(out, /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/, ["connect", "read", "write", "timeout"]) ?? {
      connect: 0,
      read: 0,
      write: 0,
      timeout: 0,
    };
    let requests = num(/(\d+) requests in/) ?? 0;
    let durationSec = 0;
    let latencyUs: LoadResult["latencyUs"] = null;
    let non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0;
    const jsonLine = /^WRK_JSON (.*)$/m.exec(out);
    if (jsonLine !== null) {
      const j = JSON.parse(jsonLine[1]!) as {
        requests: number;
        duration_us: number;
        errors: { connect: number; read: number; write: number; status: number; timeout: number };
        latency_us: { p50: number; p90: number; p99: number; max: number };
      };
      requests = j.requests;
      durationSec = j.duration_us / 1e6;
      non2xx = Math.max(non2xx, j.errors.status);
      socketErrors = { connect: j.errors.connect, read: j.errors.read, write: j.errors.write, timeout: j.errors.timeout };
      latencyUs = j.latency_us;
    }
    const flags = commonFlags("wrk", code, rps, { non2xx, requests }, "non-2xx/3xx");
    const sockTotal = socketErrors.connect + socketErrors.read + socketErrors.write + socketErrors.timeout;
    if (sockTotal > 0) flags.push(`socket errors: connect ${socketErrors.connect}, read ${socketErrors.read}, write ${socketErrors.write}, timeout ${socketErrors.timeout}`);
    return { rps: rps ?? 0, requests, durationSec, non2xx, socketErrors, latencyUs, flags };
  },
  describe: (o) =>
    `wrk -t1 -c${o.connections} -d${o.duration}s${wrkHeaders(o.proto)
      .map((h) => ` -H '${h}'`)
      .join("")} per route after a ${o.warmup} s warm-up`,
};

/** h2load prints durations with a unit ("625us", "19.72ms", "1.2s"); in microseconds. */
function h2loadMicros(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) return NaN;
  return Number(m[1]) * (m[2] === "s" ? 1e6 : m[2] === "ms" ? 1e3 : 1);
}

const h2load: LoadGenerator = {
  name: "h2load",
  aptPackage: "nghttp2-client",
  version: () => tryRun("h2load", ["--version"])?.split("\n")[0] ?? null,
  // Each measured run warms up first (--warm-up-time): h2load sends one method per run.
  warmUp: async () => null,
  run(port, route, o) {
    const args = ["h2load", "-t1", `-c${o.connections}`, `-m${o.streams}`, "-D", `${o.duration}s`];
    if (o.warmup > 0) args.push(`--warm-up-time=${o.warmup}s`);
    if (route.method === "POST") {
      scratchDir ??= mkdtempSync(join(tmpdir(), "tako-bench-"));
      const file = join(scratchDir, "echo.json");
      writeFileSync(file, ECHO_BODY);
      args.push("-d", file, "-H", "content-type: application/json");
    }
    args.push(`${origin(o.proto, port)}${route.path}`);
    return runClient(args, o.warmup + o.duration);
  },
  parse(code, out, o) {
    // With -D, the counts and req/s cover the measured window only (not the warm-up).
    const finished = /^finished in [^,]+, ([\d.]+) req\/s/m.exec(out);
    const rps = finished === null ? null : Number(finished[1]);
    const counts = captures(out, /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m, [
      "total",
      "started",
      "done",
      "succeeded",
      "failed",
      "errored",
      "timeout",
    ]);
    const status = captures(out, /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m, ["s2xx", "s3xx", "s4xx", "s5xx"]);
    const non2xx = status === null ? 0 : status.s3xx + status.s4xx + status.s5xx;
    const lat = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(out);
    const latencyUs = lat === null ? null : { min: h2loadMicros(lat[1]!), max: h2loadMicros(lat[2]!), mean: h2loadMicros(lat[3]!), sd: h2loadMicros(lat[4]!) };
    const requests = counts?.done ?? 0;
    const flags = commonFlags("h2load", code, rps, { non2xx, requests }, "non-2xx");
    // Over TLS h2load takes what ALPN selects, HTTP/1.1 included: only h2 is the protocol under test.
    const alpn = /^Application protocol: (\S+)/m.exec(out)?.[1];
    const tls = /^TLS Protocol: (\S+)\s+^Cipher: (\S+)/m.exec(out);
    const want = o.proto === "h2s" ? "h2" : "h2c";
    if (alpn !== want) flags.push(`h2load spoke ${alpn ?? "no application protocol"}, not ${want}`);
    if (counts === null || status === null) flags.push("no request counts or status codes in h2load output");
    // failed counts error answers too (flagged above); errored and timeout are streams or connections lost.
    else if (counts.failed > 0 || counts.errored > 0 || counts.timeout > 0) flags.push(`failed requests: ${counts.failed} (errored ${counts.errored}, timeout ${counts.timeout})`);
    const negotiated = `${alpn ?? "?"}${tls === null ? "" : `, ${tls[1]} ${tls[2]}`}`;
    return { rps: rps ?? 0, requests, durationSec: o.duration, non2xx, ...(counts === null ? {} : { requestCounts: counts }), latencyUs, negotiated, flags };
  },
  describe: (o) => `h2load -t1 -c${o.connections} -m${o.streams} -D ${o.duration}s${o.warmup > 0 ? ` --warm-up-time=${o.warmup}s` : ""} per route`,
};

const LOAD: Readonly<Record<Proto, LoadGenerator>> = { h1: wrk, h2c: h2load, h1s: wrk, h2s: h2load, hs: wrk };

/** A CPU is "quiet" below this busy share; measured before each server starts and between retries. */
const QUIET = 0.15;
const pct = (x: number): string => `${Math.round(x * 100)}%`;

/**
 * One load run on `route`, with the CPU use of both CPUs accounted. When something other than the
 * server, the load generator and this script took more than `--noise` of either CPU (another
 * workload on the machine), the run is discarded and redone after the machine is quiet again, up
 * to `--retries` times; a run still noisy after that is kept and marked.
 */
async function measure(server: Server, route: Route, o: Options): Promise<LoadResult> {
  const load = LOAD[o.proto];
  const discarded: { rps: number; cpu: CpuReport }[] = [];
  for (let attempt = 0; ; attempt++) {
    const before = cpuSnap(server.pgid);
    const w = await load.run(server.port, route, o);
    const after = cpuSnap(server.pgid);
    const result = load.parse(w.code, w.out, o);
    result.cpu = cpuReport(before, after, w.cpuSec);
    if (server.exitCode !== undefined) result.flags.push(`server died during the run (exit ${String(server.exitCode)})`);
    // The client CPU also does most of the kernel's loopback work (about 3-10% of it on a quiet
    // machine), so it gets twice the allowance.
    const noisy = result.cpu.otherOnServerCpu > o.noise || result.cpu.otherOnClientCpu > 2 * o.noise;
    if (!noisy || attempt >= o.retries || result.flags.length > 0) {
      result.noisy = noisy;
      if (discarded.length > 0) result.discarded = discarded;
      return result;
    }
    discarded.push({ rps: result.rps, cpu: result.cpu });
    await waitForQuiet(QUIET, 20_000);
  }
}

// ---------------------------------------------------------------------------------------------
// Main loop

interface Sample {
  runtime: Runtime;
  contender: string;
  label: string;
  round: number;
  position: number;
  route: string;
  result: LoadResult;
}

interface ServerRun {
  runtime: Runtime;
  contender: string;
  round: number;
  peakRssMiB: number | null;
  startMs: number;
  /** srcFingerprint() when the server started (tako contenders). */
  src?: string;
  /** Over TLS: what the check client negotiated (see verifyServer). */
  tls?: string;
}

function tryRun(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error !== undefined) return null;
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
}

/**
 * Builds tako's package (`dist/`, `tsc -p tsconfig.build.json`) in this checkout and in `--base`
 * when a Node tako server will run, so it runs the compiled code a Node user gets: a stale `dist/`
 * would measure other code than `src/`. Fails loudly when a build fails.
 */
function buildPackages(o: Options): void {
  if (!o.runtimes.includes("node") || !contendersOf(o, "node").some((c) => c.id === "tako" || c.id === "base")) return;
  try {
    buildPackage(o.base === null ? [ROOT] : [ROOT, o.base]);
  } catch (error) {
    fail((error as Error).message);
  }
}

function preflight(o: Options): Record<string, string> {
  const load = LOAD[o.proto];
  if (availableParallelism() < 2) fail(`needs 2 CPUs (server on CPU 0, ${load.name} on CPU 1)`);
  if (tryRun("taskset", ["-V"]) === null) fail("taskset not found (util-linux)");
  const loadVersion = load.version();
  if (loadVersion === null) fail(`${load.name} not found: run \`bash bench/run.sh\` (it installs it) or \`apt-get install -y ${load.aptPackage}\``);
  // Move this orchestrator (all threads) to the client CPU so it never competes with the server.
  tryRun("taskset", ["-a", "-p", "-c", CLIENT_CPU, String(process.pid)]);
  const versions: Record<string, string> = { node: process.version, [load.name]: loadVersion };
  if (o.runtimes.includes("bun")) {
    const v = tryRun(join(BIN, "bun"), ["--version"]);
    if (v === null) fail(`bun not found at ${join(BIN, "bun")} (npm install)`);
    versions.bun = v;
  }
  if (o.runtimes.includes("deno")) {
    const v = tryRun(join(BIN, "deno"), ["--version"]);
    if (v === null) fail(`deno not found at ${join(BIN, "deno")} (npm install)`);
    versions.deno = v.split("\n")[0] ?? v;
  }
  if (overTls(o.proto)) {
    try {
      const cert = new X509Certificate(readFileSync(tlsFiles().cert));
      const key = cert.publicKey.asymmetricKeyDetails;
      versions.tlsCert = `${cert.publicKey.asymmetricKeyType ?? "?"}${key?.namedCurve !== undefined ? ` ${key.namedCurve}` : key?.modulusLength !== undefined ? ` ${key.modulusLength} bits` : ""} (${relative(ROOT, tlsFiles().cert)})`;
    } catch (error) {
      fail((error as Error).message);
    }
  }
  const commit = tryRun("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]);
  const dirty = tryRun("git", ["-C", ROOT, "status", "--porcelain", "--", "src"]);
  versions.commit = `${commit ?? "?"}${dirty !== null && dirty !== "" ? " (src/ has uncommitted changes)" : ""}`;
  versions.cpu = /^model name\s*:\s*(.*)$/m.exec(tryRun("cat", ["/proc/cpuinfo"]) ?? "")?.[1] ?? "?";
  return versions;
}

/** The contenders of `runtime` for the protocol under test, as `--only` restricts them. */
function contendersOf(o: Options, runtime: Runtime): Contender[] {
  const chosen = (id: string): boolean => o.only === null || o.only.includes(id);
  return CONTENDERS[o.proto].flatMap((c) => {
    if (c.runtime !== runtime) return [];
    const own = chosen(c.id) ? [c] : [];
    if (c.id !== "tako" || o.base === null || !chosen("base")) return own;
    return [...own, { id: "base", label: `${c.label} @ base`, runtime, file: join(o.base, "bench/http/servers", c.file) }];
  });
}

/** How the protocol is named in headings (HTTP/1.1 headings keep their historical form). */
const PROTO_TITLE: Readonly<Record<Proto, { heading: string; bench: string }>> = {
  h1: { heading: "", bench: "HTTP bench" },
  h2c: { heading: ", HTTP/2 cleartext (h2c)", bench: "HTTP/2 cleartext (h2c, prior knowledge) bench" },
  h1s: { heading: ", HTTPS/1.1", bench: "HTTPS/1.1 bench" },
  h2s: { heading: ", HTTP/2 over TLS (h2)", bench: "HTTP/2 over TLS (ALPN h2) bench" },
  hs: { heading: ", TLS handshakes (a new HTTPS/1.1 connection per request, so requests/s = handshakes/s)", bench: "TLS handshake bench" },
};

/** A load generator using this share of its CPU or more may have been the limit, not the server. */
const SATURATED = 0.9;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const int = (n: number): string => Math.round(n).toLocaleString("en-US");

function tables(
  o: Options,
  versions: Record<string, string>,
  samples: readonly Sample[],
  servers: readonly ServerRun[],
  failures: readonly string[],
  warnings: readonly string[],
): string {
  const load = LOAD[o.proto];
  const lines: string[] = [];
  const notes: string[] = [];
  const noisyNotes: string[] = [];
  const saturatedNotes: string[] = [];
  const tlsNotes: string[] = [];
  for (const runtime of o.runtimes) {
    const contenders = contendersOf(o, runtime);
    if (contenders.length === 0) continue;
    const base = contenders.find((c) => c.baseline === true);
    const version = runtime === "node" ? versions.node : versions[runtime];
    /**
     * The server's CPU time per request (median over rounds), its ratio to the baseline's: what
     * the server spends however fast the load generator is (hs: wrk may saturate first).
     */
    const cpuPerRequest = (c: Contender, route: Route): string => {
      const us = (x: Contender): number =>
        median(
          samples
            .filter((s) => s.runtime === runtime && s.contender === x.id && s.route === route.name && s.result.rps > 0 && s.result.cpu !== undefined)
            .map((s) => (s.result.cpu!.serverShare / s.result.rps) * 1e6),
        );
      const mine = us(c);
      if (Number.isNaN(mine)) return "n/a";
      const ref = base === undefined || base === c ? NaN : us(base);
      return `${mine < 100 ? mine.toFixed(1) : int(mine)}${Number.isNaN(ref) ? "" : ` (${(mine / ref).toFixed(2)}×)`}`;
    };
    lines.push(
      `### ${runtime} (${version ?? "?"})${PROTO_TITLE[o.proto].heading}: requests/s, median of ${o.rounds} round${o.rounds === 1 ? "" : "s"}${base !== undefined ? `, ratio to ${base.label}` : ""}`,
    );
    lines.push("");
    lines.push(`| route | ${contenders.map((c) => c.label).join(" | ")} |`);
    lines.push(`|---|${contenders.map(() => "---:").join("|")}|`);
    const spreads: string[] = [];
    for (const route of routesOf(o.proto)) {
      const cell = (c: Contender, collect = false): { text: string; med: number; spread: string } => {
        const runs = samples.filter((s) => s.runtime === runtime && s.contender === c.id && s.route === route.name);
        if (runs.length === 0) return { text: "n/a", med: NaN, spread: "n/a" };
        const rps = runs.map((r) => r.result.rps);
        const med = median(rps);
        const flagged = runs.filter((r) => r.result.flags.length > 0);
        const noisy = runs.filter((r) => r.result.noisy === true);
        const saturated = runs.filter((r) => (r.result.cpu?.clientShare ?? 0) >= SATURATED);
        if (collect) {
          for (const f of saturated)
            saturatedNotes.push(
              `- ‡ ${runtime} / ${c.label} / ${route.name} / round ${f.round + 1}: ${load.name} used ${pct(f.result.cpu!.clientShare)} of its CPU, the server ${pct(f.result.cpu!.serverShare)} of its own`,
            );
          for (const f of flagged) notes.push(`- ⚠ ${runtime} / ${c.label} / ${route.name} / round ${f.round + 1}: ${f.result.flags.join("; ")}`);
          for (const f of noisy) {
            const cpu = f.result.cpu!;
            noisyNotes.push(
              `- † ${runtime} / ${c.label} / ${route.name} / round ${f.round + 1}: other processes took ${pct(cpu.otherOnServerCpu)} of the server CPU, ${pct(cpu.otherOnClientCpu)} of the ${load.name} CPU`,
            );
          }
        }
        const spread = rps.length > 1 ? `±${(((Math.max(...rps) - Math.min(...rps)) / 2 / med) * 100).toFixed(1)}%` : "–";
        return { text: `${int(med)}${flagged.length > 0 ? " ⚠" : ""}${noisy.length > 0 ? " †" : ""}${saturated.length > 0 ? " ‡" : ""}`, med, spread };
      };
      const baseMed = base === undefined ? NaN : cell(base).med;
      const cells = contenders.map((c) => {
        const x = cell(c, true);
        if (c === base || Number.isNaN(baseMed) || Number.isNaN(x.med)) return x.text;
        return `${x.text} (${(x.med / baseMed).toFixed(2)}×)`;
      });
      lines.push(`| ${route.name} | ${cells.join(" | ")} |`);
      if (o.proto === "hs") lines.push(`| server CPU per connection (µs) | ${contenders.map((c) => cpuPerRequest(c, route)).join(" | ")} |`);
      spreads.push(`| ${route.name} | ${contenders.map((c) => cell(c).spread).join(" | ")} |`);
    }
    if (o.proto !== "hs") {
      // Where the load generator saturates (‡), requests/s measures it, not the server: the
      // server's own CPU per request still compares the servers.
      lines.push("");
      lines.push(`Server CPU time per request (µs, median of rounds; ratio to ${base?.label ?? "—"}):`);
      lines.push("");
      lines.push(`| route | ${contenders.map((c) => c.label).join(" | ")} |`);
      lines.push(`|---|${contenders.map(() => "---:").join("|")}|`);
      for (const route of routesOf(o.proto)) lines.push(`| ${route.name} | ${contenders.map((c) => cpuPerRequest(c, route)).join(" | ")} |`);
    }
    if (o.rounds > 1) {
      lines.push("");
      lines.push(`Run-to-run spread, half of (max − min) ÷ median:`);
      lines.push("");
      lines.push(`| route | ${contenders.map((c) => c.label).join(" | ")} |`);
      lines.push(`|---|${contenders.map(() => "---:").join("|")}|`);
      lines.push(...spreads);
    }
    const rss = contenders.map((c) => {
      const v = servers
        .filter((s) => s.runtime === runtime && s.contender === c.id)
        .map((s) => s.peakRssMiB)
        .filter((x): x is number => x !== null);
      return v.length === 0 ? "n/a" : `${median(v).toFixed(0)} MiB`;
    });
    lines.push("");
    lines.push(`Peak RSS of the server process after the run (median): ${contenders.map((c, i) => `${c.label} ${rss[i]}`).join(", ")}.`);
    lines.push("");
    for (const c of contenders) {
      const checked = [...new Set(servers.filter((s) => s.runtime === runtime && s.contender === c.id && s.tls !== undefined).map((s) => s.tls))];
      const spoken = [...new Set(samples.filter((s) => s.runtime === runtime && s.contender === c.id && s.result.negotiated !== undefined).map((s) => s.result.negotiated))];
      if (checked.length + spoken.length > 0)
        tlsNotes.push(`- ${runtime} / ${c.label}: ${[...checked.map((t) => `check client: ${t}`), ...spoken.map((t) => `${load.name}: ${t}`)].join("; ")}`);
    }
  }
  lines.push(
    `${load.describe(o)}; server on CPU ${SERVER_CPU}, ${load.name} on CPU ${CLIENT_CPU}; ${versions[load.name]}; CPU ${versions.cpu}; tako ${versions.commit}${versions.tlsCert === undefined ? "" : `; certificate ${versions.tlsCert}`}.`,
  );
  if (overTls(o.proto) && tlsNotes.length > 0) {
    lines.push("");
    lines.push(
      `Negotiated TLS, by the check client (Node's, offering OpenSSL's default suites${load.name === "wrk" ? " in the order wrk offers them" : ""})${load.name === "wrk" ? "" : ` and by ${load.name} (its own suite order)`}:`,
    );
    lines.push(...tlsNotes);
    if (o.proto === "hs") {
      lines.push(
        "wrk offers the session of a slot's previous connection when it reconnects; against node:https about every other handshake was resumed (counted on the server in a test), so these rates mix full and resumed handshakes wherever a server resumes sessions (see the check client's count above).",
      );
    }
  }
  for (const w of warnings) {
    lines.push("");
    lines.push(`⚠ ${w}`);
  }
  if (failures.length > 0) {
    lines.push("");
    lines.push("✗ FAILED servers (wrong answers or crashed; not measured):");
    for (const f of failures) lines.push(`- ${(f.split("\nserver output:")[0] ?? f).replace(/\n\s*/g, " ")}`);
  }
  if (notes.length > 0) {
    lines.push("");
    lines.push("⚠ flagged runs (errors or non-2xx answers under load; their numbers are not comparable):");
    lines.push(...notes);
  } else {
    lines.push(`No run had non-2xx answers or ${load.name === "wrk" ? "socket errors" : "failed requests"}.`);
  }
  const redone = samples.reduce((n, x) => n + (x.result.discarded?.length ?? 0), 0);
  if (redone > 0)
    lines.push(
      `${redone} run(s) were redone because other processes used more than ${pct(o.noise)} of the server CPU (or ${pct(2 * o.noise)} of the ${load.name} CPU) during them.`,
    );
  if (noisyNotes.length > 0) {
    lines.push("");
    lines.push(`† runs still disturbed by other processes after ${o.retries} retries (numbers less reliable):`);
    lines.push(...noisyNotes);
  }
  if (saturatedNotes.length > 0) {
    lines.push("");
    lines.push(`‡ runs where ${load.name} used ${pct(SATURATED)} or more of its CPU: the load generator may have been the limit, and the server faster than measured:`);
    lines.push(...saturatedNotes);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const versions = preflight(o);
  buildPackages(o);
  const started = new Date();
  const samples: Sample[] = [];
  const servers: ServerRun[] = [];
  const failures: string[] = [];
  const srcSeen = new Set<string>([srcFingerprint()]);
  const load = LOAD[o.proto];
  if (o.runtimes.every((r) => contendersOf(o, r).length === 0)) {
    console.log(`${PROTO_TITLE[o.proto].bench}: no server of --only ${o.only?.join(",") ?? ""} exists for --proto ${o.proto}; nothing to run`);
    return;
  }
  const streams = LOAD[o.proto] === h2load ? ` × ${o.streams} streams` : "";
  console.log(
    `${PROTO_TITLE[o.proto].bench}: runtimes ${o.runtimes.join(", ")}; ${o.rounds} round(s); ${o.duration} s per route; warm-up ${o.warmup} s; ${o.connections} connections${streams}`,
  );

  for (const runtime of o.runtimes) {
    const contenders = contendersOf(o, runtime);
    for (let round = 0; round < o.rounds; round++) {
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
      for (let position = 0; position < order.length; position++) {
        const c = order[position]!;
        const who = `${runtime}/${c.id}`;
        await waitForQuiet(QUIET, 15_000);
        const src = c.id === "tako" ? srcFingerprint() : undefined;
        if (src !== undefined) srcSeen.add(src);
        const t0 = performance.now();
        let server: Server;
        try {
          server = await startServer(c);
        } catch (error) {
          failures.push(`${who}: ${(error as Error).message}`);
          console.error(`  ${who}: FAILED to start\n${(error as Error).message}`);
          continue;
        }
        const startMs = performance.now() - t0;
        try {
          const tls = await verifyServer(server, o.proto);
          const trouble = await load.warmUp(server.port, o);
          if (trouble !== null) console.warn(`  ${who}: warm-up trouble (${trouble})`);
          const line: string[] = [];
          for (const route of routesOf(o.proto)) {
            if (server.exitCode !== undefined) {
              const result: LoadResult = { rps: 0, requests: 0, durationSec: 0, non2xx: 0, latencyUs: null, flags: [`server died (exit ${String(server.exitCode)})`] };
              samples.push({ runtime, contender: c.id, label: c.label, round, position, route: route.name, result });
              continue;
            }
            const result = await measure(server, route, o);
            samples.push({ runtime, contender: c.id, label: c.label, round, position, route: route.name, result });
            const cpu =
              result.cpu === undefined
                ? ""
                : ` [cpu: srv ${pct(result.cpu.serverShare)} ${load.name} ${pct(result.cpu.clientShare)} other ${pct(result.cpu.otherOnServerCpu)}/${pct(result.cpu.otherOnClientCpu)}]`;
            const retried = result.discarded === undefined ? "" : ` (${result.discarded.length} noisy attempt(s) redone)`;
            line.push(`${route.name} ${int(result.rps)}${cpu}${retried}${result.noisy === true ? " †noisy" : ""}${result.flags.length > 0 ? ` ⚠ ${result.flags.join("; ")}` : ""}`);
          }
          servers.push({ runtime, contender: c.id, round, peakRssMiB: peakRssMiB(server.pgid), startMs, ...(src === undefined ? {} : { src }), ...(tls === null ? {} : { tls }) });
          console.log(`  round ${round + 1}/${o.rounds} ${who.padEnd(12)} ${line.join(" | ")}`);
          if (server.exitCode !== undefined) console.log(`    server output:\n${server.log()}`);
        } catch (error) {
          failures.push(`${who}: ${(error as Error).message}`);
          console.error(`  ${who}: FAILED\n${(error as Error).message}`);
        } finally {
          await stopServer(server);
        }
      }
    }
  }

  srcSeen.add(srcFingerprint());
  const warnings: string[] = [];
  if (srcSeen.size > 1 && servers.some((s) => s.contender === "tako")) {
    warnings.push(`src/ changed during the run (${srcSeen.size} versions seen): tako rounds may have measured different code; rerun on a quiet tree.`);
  }
  const markdown = tables(o, versions, samples, servers, failures, warnings);
  console.log(`\n${markdown}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const name = `${o.proto === "h1" ? "http" : `http-${o.proto}`}-${stamp}`;
  const jsonPath = join(RESULTS, `${name}.json`);
  const routes = routesOf(o.proto).map((r) => ({ name: r.name, method: r.method, path: r.path }));
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ date: started.toISOString(), options: o, versions, routes, echoBody: ECHO_BODY, samples, servers, failures, warnings, srcVersions: [...srcSeen] }, null, 2)}\n`,
  );
  writeFileSync(join(RESULTS, `${name}.md`), `${markdown}\n`);
  console.log(`raw numbers: ${relative(ROOT, jsonPath)} (tables: same name, .md)`);
  for (const w of warnings) console.error(`bench: ${w}`);
  if (failures.length > 0) {
    console.error(`\nbench: ${failures.length} server(s) failed:\n${failures.join("\n")}`);
    process.exitCode = 1;
  }
}

await main();
