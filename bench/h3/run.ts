/**
 * HTTP/3 benchmark on Bun: tako (`spawnTls(listener, router, { http3: true })`, whose HTTP/3 side
 * is what `spawnH3` serves) against raw `Bun.serve({ tls, http2: true, http3: true })` with the
 * hand-written dispatch of the other raw baselines, on the three routes of bench/http; and, on the
 * TCP port of the same servers, HTTP/2 over TLS with h2load for comparison (`--no-h2` skips it).
 *
 *   node --import tsx bench/h3/run.ts [--rounds 3] [--duration 3] [--warmup 1] [--workers 64] [--no-h2]
 *
 * Method: each server runs pinned to CPU 0 (`taskset -c 0`), the load client to CPU 1. The HTTP/3
 * load client is bench/h3/load.ts under Bun: `--workers` loops in one process, each with one
 * request in flight, over Bun's `fetch(url, { protocol: "http3" })` (experimental in Bun 1.4).
 * h2: `h2load -t1 -c16 -m10` as in bench/http. Every round starts each server fresh (order rotated
 * per round), checks its answers over HTTP/3, then measures route by route after `--warmup`
 * seconds; the tables show medians over rounds, the tako/raw ratio of medians, and the CPU share
 * of its core the server and (HTTP/3) the client used. In the first runs on a 2-core machine
 * neither reached its core (server about 30%, client about 45%, 13-20k req/s): the rate was
 * bounded by the client's HTTP/3 round trips, so a ratio near 1 says tako is not the bottleneck at
 * that rate, not how the two compare at saturation; compare the server CPU shares as well.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const TICK_S = 0.01; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

const ECHO_BODY = /wrk\.body\s*=\s*'([^']*)'/.exec(readFileSync(join(ROOT, "bench/http/wrk/post-echo.lua"), "utf8"))![1]!;
const ROUTES = [
  { name: "GET /", method: "GET", path: "/", expect: "Hello, World!" },
  { name: "GET /users/{id}", method: "GET", path: "/users/42", expect: '{"id":"42"}' },
  { name: "POST /echo (JSON)", method: "POST", path: "/echo", expect: JSON.stringify(JSON.parse(ECHO_BODY)) },
] as const;
const CONTENDERS = [
  { id: "tako", file: "servers/tako-h3.ts" },
  { id: "raw", file: "servers/raw-bun-h3.ts" },
] as const;

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const o = { rounds: opt("rounds", 3), duration: opt("duration", 3), warmup: opt("warmup", 1), workers: opt("workers", 64), h2: !args.includes("--no-h2") };

/** Runs a command to completion (pinned with taskset when `cpu`), collecting its output. */
function run(cmd: string, argv: readonly string[], cpu: string | null, timeoutS: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = cpu === null ? spawn(cmd, argv) : spawn("taskset", ["-c", cpu, cmd, ...argv]);
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** CPU seconds used so far by process `pid` (all its threads). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_S;
}

interface Server {
  readonly pid: number;
  readonly port: number;
  stop(): void;
}

function startServer(file: string): Promise<Server> {
  const child = spawn("taskset", ["-c", "0", BUN, join(HERE, file)], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PORT: "0" } });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start: ${out}`)), 30_000);
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const m = /^READY (\d+)$/m.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve({ pid: child.pid!, port: Number(m[1]), stop: () => process.kill(-child.pid!, "SIGKILL") });
    });
  });
}

const job = (port: number, route: (typeof ROUTES)[number], extra: object): string =>
  JSON.stringify({
    port,
    method: route.method,
    path: route.path,
    ...(route.method === "POST" ? { body: ECHO_BODY } : {}),
    workers: o.workers,
    seconds: o.duration,
    warmup: o.warmup,
    ...extra,
  });

interface Sample {
  rps: number;
  serverCpu: number;
  clientCpu: number;
  flags: string[];
}

async function measureH3(server: Server, route: (typeof ROUTES)[number]): Promise<Sample> {
  const cpu0 = cpuOf(server.pid);
  const r = await run(BUN, [join(HERE, "load.ts"), job(server.port, route, {})], "1", o.warmup + o.duration + 30);
  const serverCpu = (cpuOf(server.pid) - cpu0) / (o.warmup + o.duration);
  const line = r.out.split("\n").find((l) => l.startsWith("{"));
  if (line === undefined) return { rps: 0, serverCpu, clientCpu: 0, flags: [`load client failed: ${r.out.slice(-500)}`] };
  const j = JSON.parse(line) as { rps: number; errors: number; non2xx: number; clientCpu: number };
  const flags = [...(j.errors > 0 ? [`${j.errors} errors`] : []), ...(j.non2xx > 0 ? [`${j.non2xx} non-2xx`] : [])];
  return { rps: j.rps, serverCpu, clientCpu: j.clientCpu, flags };
}

async function measureH2(server: Server, route: (typeof ROUTES)[number], bodyFile: string): Promise<Sample> {
  const cpu0 = cpuOf(server.pid);
  const post = route.method === "POST" ? ["-d", bodyFile, "-H", "content-type: application/json"] : [];
  const r = await run(
    "h2load",
    ["-t1", "-c16", "-m10", "-D", `${o.duration}s`, `--warm-up-time=${o.warmup}s`, ...post, `https://127.0.0.1:${server.port}${route.path}`],
    "1",
    o.warmup + o.duration + 30,
  );
  const serverCpu = (cpuOf(server.pid) - cpu0) / (o.warmup + o.duration);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(r.out)?.[1] ?? 0);
  const failed = Number(/(\d+) failed, (\d+) errored/.exec(r.out)?.[1] ?? 0);
  const protocol = /Application protocol: (\S+)/.exec(r.out)?.[1] ?? "?";
  const flags = [...(failed > 0 ? [`${failed} failed`] : []), ...(protocol !== "h2" ? [`negotiated ${protocol}`] : []), ...(rps === 0 ? ["no req/s"] : [])];
  return { rps, serverCpu, clientCpu: Number.NaN, flags };
}

async function check(server: Server, id: string): Promise<void> {
  for (const route of ROUTES) {
    const r = await run(BUN, [join(HERE, "load.ts"), job(server.port, route, { check: true })], null, 30);
    const answer = JSON.parse(r.out.split("\n").find((l) => l.startsWith("{")) ?? "{}") as { status?: number; body?: string };
    if (answer.status !== 200 || answer.body !== route.expect) throw new Error(`${id} answered ${route.name} wrongly over HTTP/3: ${JSON.stringify(answer)}`);
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const protos = o.h2 ? (["h3", "h2"] as const) : (["h3"] as const);
const samples = new Map<string, Sample[]>(); // `${proto}|${id}|${route}`
const bodyFile = join(mkdtempSync(join(tmpdir(), "tako-h3-bench-")), "echo.json");
writeFileSync(bodyFile, ECHO_BODY);
console.error(
  `HTTP/3 bench: ${o.rounds} rounds × ${o.duration} s (+${o.warmup} s warm-up) per route, ${o.workers} HTTP/3 workers${o.h2 ? "; h2load -t1 -c16 -m10 on the TCP side" : ""}`,
);
for (let round = 0; round < o.rounds; round++) {
  const order = round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
  for (const c of order) {
    const server = await startServer(c.file);
    try {
      await check(server, c.id);
      for (const proto of protos) {
        for (const route of ROUTES) {
          const s = proto === "h3" ? await measureH3(server, route) : await measureH2(server, route, bodyFile);
          const key = `${proto}|${c.id}|${route.name}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
          console.error(
            `round ${round + 1} ${c.id} ${proto} ${route.name}: ${Math.round(s.rps)} req/s, server CPU ${(s.serverCpu * 100).toFixed(0)}%${s.flags.length > 0 ? ` (${s.flags.join(", ")})` : ""}`,
          );
        }
      }
    } finally {
      server.stop();
    }
  }
}

const lines: string[] = [];
for (const proto of protos) {
  lines.push(`\n### ${proto === "h3" ? `HTTP/3 (Bun fetch, ${o.workers} workers)` : "HTTP/2 over TLS (h2load -c16 -m10)"} on Bun, median req/s of ${o.rounds} rounds\n`);
  lines.push("| route | tako | raw Bun.serve | tako/raw | server CPU tako / raw | client CPU tako / raw | flags |");
  lines.push("|---|---|---|---|---|---|---|");
  for (const route of ROUTES) {
    const t = samples.get(`${proto}|tako|${route.name}`) ?? [];
    const r = samples.get(`${proto}|raw|${route.name}`) ?? [];
    const tm = median(t.map((s) => s.rps));
    const rm = median(r.map((s) => s.rps));
    const cpu = (xs: Sample[], of: "serverCpu" | "clientCpu" = "serverCpu"): string =>
      proto === "h2" && of === "clientCpu" ? "–" : `${(median(xs.map((s) => s[of])) * 100).toFixed(0)}%`;
    const flags = [...t, ...r].flatMap((s) => s.flags);
    lines.push(
      `| ${route.name} | ${Math.round(tm)} | ${Math.round(rm)} | ${(tm / rm).toFixed(2)} | ${cpu(t)} / ${cpu(r)} | ${cpu(t, "clientCpu")} / ${cpu(r, "clientCpu")} | ${flags.length === 0 ? "" : [...new Set(flags)].join("; ")} |`,
    );
  }
}
console.log(lines.join("\n"));
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
const file = join(ROOT, `bench/results/h3-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ options: o, samples: Object.fromEntries(samples) }, null, 2));
console.error(`raw numbers: ${file}`);
process.exit(0);
