// WebSocket bench, printed as a markdown table: echo messages/s (32-byte text messages, each of
// `--conns` connections (default 64) sending its next message when the echo arrives) and server
// memory per idle WebSocket (`--idle` sockets, default 1,000), for tako against the raw runtime
// WebSocket servers in the same run: the ws package on node:http (every runtime; tako's own
// path) and Bun.serve / Deno.upgradeWebSocket. Server pinned to CPU 0, this client to CPU 1.
// The client is one Node process and is the bottleneck near 55–70k messages/s, so the table also
// gives the server's CPU time per echoed message (user + system from /proc, over the counted
// window): at a client-bound rate that, not messages/s, is the resolvable measure of the server.
// Medians over --rounds, the servers' order rotated each round.
// Usage: tsx bench/websocket/run.ts [--duration S] [--rounds N] [--conns N] [--idle N] [--runtime node|bun|deno]
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { buildPackage, NODE_SERVER } from "../node-package.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const DURATION = Number(arg("duration", "5")) * 1000;
const CONNS = Number(arg("conns", "64"));
const IDLE = Number(arg("idle", "1000"));
const ROUNDS = Number(arg("rounds", "3"));
const only = arg("runtime", "");
const TICK_US = 1e6 / 100; // USER_HZ

/** CPU time (user + system) a process has used, in µs, from /proc/<pid>/stat. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const commands: Record<string, string[]> = {
  node: [...NODE_SERVER],
  bun: [`${root}node_modules/.bin/bun`],
  deno: [`${root}node_modules/.bin/deno`, "run", "-A", "--quiet"],
};

async function start(runtime: string, kind: string): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, ...args] = commands[runtime]!;
  const child = spawn("taskset", ["-c", "0", cmd!, ...args, "bench/websocket/server.ts"], {
    cwd: root,
    env: { ...process.env, BENCH_WS: kind },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      const m = /^READY (\d+)$/.exec(l);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${runtime} ${kind} exited ${code}`)));
  });
  return { child, port };
}

const open = (port: number): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });

/** Echo messages/s and the server's CPU µs per message over the counted window. */
async function echoRate(port: number, pid: number): Promise<[number, number]> {
  const sockets = await Promise.all(Array.from({ length: CONNS }, () => open(port)));
  const text = "x".repeat(32);
  let counting = false;
  let count = 0;
  for (const ws of sockets) {
    ws.on("message", () => {
      if (counting) count++;
      ws.send(text);
    });
    ws.send(text);
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  counting = true;
  const cpu0 = cpuMicros(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMicros(pid) - cpu0;
  const counted = count;
  for (const ws of sockets) ws.terminate();
  return [counted / seconds, cpu / counted];
}

async function idleBytes(port: number): Promise<number> {
  const rss = async (): Promise<number> => Number(await (await fetch(`http://127.0.0.1:${port}/rss`)).text());
  const before = await rss();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < IDLE; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, IDLE - i) }, () => open(port)))));
  await new Promise((r) => setTimeout(r, 500));
  const after = await rss();
  for (const ws of sockets) ws.terminate();
  return (after - before) / IDLE;
}

const rows: string[] = [];
if (only === "" || only === "node") buildPackage();
for (const runtime of ["node", "bun", "deno"].filter((r) => only === "" || r === only)) {
  const kinds = runtime === "node" ? ["ws-node-http", "tako"] : ["native", "ws-node-http", "tako"];
  const results: Record<string, { rate: number[]; cpu: number[]; bytes: number[] }> = {};
  for (const kind of kinds) results[kind] = { rate: [], cpu: [], bytes: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]!);
    for (const kind of order) {
      const { child, port } = await start(runtime, kind);
      try {
        const [rate, cpu] = await echoRate(port, child.pid!);
        const r = results[kind]!;
        r.rate.push(rate);
        r.cpu.push(cpu);
        r.bytes.push(await idleBytes(port));
      } finally {
        child.kill("SIGKILL");
      }
    }
  }
  const base = results[kinds[0]!]!;
  for (const kind of kinds) {
    const r = results[kind]!;
    const rate = median(r.rate);
    const cpu = median(r.cpu);
    rows.push(
      `| ${runtime} | ${kind} | ${Math.round(rate).toLocaleString("en")} | ${(rate / median(base.rate)).toFixed(2)}× | ${cpu.toFixed(1)} | ${(median(base.cpu) / cpu).toFixed(2)}× | ${(median(r.bytes) / 1024).toFixed(1)} KiB |`,
    );
  }
}
console.log(`\nWebSocket echo, ${CONNS} connections, 32-byte text, ${DURATION / 1000} s, median of ${ROUNDS} rounds; memory: ${IDLE} idle sockets\n`);
console.log("| runtime | server | messages/s | vs first row | server CPU µs/message | efficiency vs first row (CPU) | RSS per idle socket |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
