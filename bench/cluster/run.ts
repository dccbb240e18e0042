// cluster() bench, printed as markdown tables: requests/s and CPU time per request with 1 and 2
// workers, and a cluster drained under load. This machine has 2 cores and the load generator
// (wrk, 2 threads) runs on the same cores as the workers: nothing is pinned, so 2 workers compete
// with wrk; read the ratio, not the absolute figures. Usage:
//   node --import tsx bench/cluster/run.ts [--runtime node,bun,deno] [--rounds 3] [--duration 5]
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildPackage, NODE_SERVER } from "../node-package.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const RUNTIMES = arg("runtime", "node,bun,deno").split(",");
if (RUNTIMES.includes("node")) buildPackage();
const ROUNDS = Number(arg("rounds", "3"));
const DURATION = Number(arg("duration", "5"));

function command(runtime: string): string[] {
  const file = "bench/cluster/server.ts";
  if (runtime === "bun") return [`${root}node_modules/.bin/bun`, file];
  if (runtime === "deno") return [`${root}node_modules/.bin/deno`, "run", "-A", file];
  return [...NODE_SERVER, file];
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Srv {
  child: ChildProcess;
  exited: Promise<number | null>;
  port: number;
  lines: string[];
  count(re: RegExp): number;
  waitFor(re: RegExp, n: number): Promise<void>;
}

async function start(runtime: string, workers: number): Promise<Srv> {
  const port = await freePort();
  const [cmd, ...args] = command(runtime);
  const child = spawn(cmd!, args, { cwd: root, env: { ...process.env, PORT: String(port), WORKERS: String(workers) }, stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  createInterface({ input: child.stdout! }).on("line", (l) => lines.push(l));
  const srv: Srv = {
    child,
    exited,
    port,
    lines,
    count: (re) => lines.filter((l) => re.test(l)).length,
    async waitFor(re, n) {
      for (let i = 0; i < 600 && srv.count(re) < n; i++) await new Promise((r) => setTimeout(r, 50));
      if (srv.count(re) < n) throw new Error(`${runtime}: fewer than ${n} lines ${re}`);
    },
  };
  await srv.waitFor(/^READY /, workers);
  return srv;
}

/** CPU time (user + system, in clock ticks) of `pid` and all its descendants. */
function treeTicks(pid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      ticks.set(Number(name), Number(fields[11]) + Number(fields[12]));
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  const visit = (p: number): void => {
    sum += ticks.get(p) ?? 0;
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return sum;
}

function wrk(port: number, seconds: number): Promise<string> {
  return new Promise((resolve) => execFile("wrk", ["-t2", "-c64", `-d${seconds}s`, `http://127.0.0.1:${port}/`], (_e, out) => resolve(out)));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function throughput(runtime: string, workers: number): Promise<{ rps: number; cpuUs: number }> {
  const srv = await start(runtime, workers);
  try {
    await wrk(srv.port, 1); // warm-up
    const before = treeTicks(srv.child.pid!);
    const out = await wrk(srv.port, DURATION);
    const after = treeTicks(srv.child.pid!);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    const tick = 1e6 / 100; // µs per clock tick (USER_HZ 100)
    return { rps: requests / DURATION, cpuUs: ((after - before) * tick) / Math.max(1, requests) };
  } finally {
    srv.child.kill("SIGTERM");
    await srv.exited;
  }
}

async function drain(runtime: string): Promise<string> {
  const srv = await start(runtime, 2);
  const run = wrk(srv.port, 4);
  await new Promise((r) => setTimeout(r, 2000));
  srv.child.kill("SIGTERM");
  const out = await run;
  const code = await srv.exited;
  const handled = srv.lines.filter((l) => l.startsWith("HANDLED ")).reduce((n, l) => n + Number(l.slice(8)), 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)?.slice(1).map(Number) ?? [0, 0, 0, 0];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
  return `| ${runtime} | ${handled} | ${requests} | ${handled - requests} | ${non2xx} | ${errs[1]} | ${errs[0]! + errs[2]!} | ${code} |`;
}

console.log(`## cluster(): GET / with 1 and 2 workers (wrk -t2 -c64, ${DURATION} s, median of ${ROUNDS}; wrk shares the 2 cores)\n`);
console.log("| runtime | 1 worker req/s | 2 workers req/s | ratio | CPU µs/request, 1 worker | CPU µs/request, 2 workers |\n|---|---:|---:|---:|---:|---:|");
for (const runtime of RUNTIMES) {
  const one: { rps: number; cpuUs: number }[] = [];
  const two: { rps: number; cpuUs: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    one.push(await throughput(runtime, 1));
    two.push(await throughput(runtime, 2));
  }
  const [r1, r2] = [median(one.map((x) => x.rps)), median(two.map((x) => x.rps))];
  console.log(
    `| ${runtime} | ${r1.toFixed(0)} | ${r2.toFixed(0)} | ${(r2 / r1).toFixed(2)}× | ${median(one.map((x) => x.cpuUs)).toFixed(1)} | ${median(two.map((x) => x.cpuUs)).toFixed(1)} |`,
  );
}
console.log("\n## Drain of a 2-worker cluster under load (SIGTERM to the primary 2 s into a 4 s wrk run)\n");
console.log(
  "| runtime | handled by workers | responses wrk received | handled but not received | non-2xx | wrk read errors | wrk connect/write errors (refused after the trigger) | primary exit code |\n|---|---:|---:|---:|---:|---:|---:|---:|",
);
for (const runtime of RUNTIMES) console.log(await drain(runtime));
