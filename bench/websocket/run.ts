// WebSocket bench, printed as a markdown table: echo messages/s (32-byte text messages, each of
// `--conns` connections (default 64) sending its next message when the echo arrives) and server
// memory per idle WebSocket (`--idle` sockets, default 1,000), for tako against the raw runtime
// WebSocket servers in the same run: the ws package on node:http (every runtime; tako's own
// path) and Bun.serve / Deno.upgradeWebSocket. Server pinned to CPU 0, this client to CPU 1.
// Usage: tsx bench/websocket/run.ts [--duration S] [--conns N] [--idle N] [--runtime node|bun|deno]
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";

const root = fileURLToPath(new URL("../../", import.meta.url));
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const DURATION = Number(arg("duration", "5")) * 1000;
const CONNS = Number(arg("conns", "64"));
const IDLE = Number(arg("idle", "1000"));
const only = arg("runtime", "");

const commands: Record<string, string[]> = {
  node: [process.execPath, "--import", "tsx"],
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

async function echoRate(port: number): Promise<number> {
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
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, DURATION));
  const rate = count / ((performance.now() - t0) / 1000);
  for (const ws of sockets) ws.terminate();
  return rate;
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
for (const runtime of ["node", "bun", "deno"].filter((r) => only === "" || r === only)) {
  const kinds = runtime === "node" ? ["ws-node-http", "tako"] : ["native", "ws-node-http", "tako"];
  const results: Record<string, [number, number]> = {};
  for (const kind of kinds) {
    const { child, port } = await start(runtime, kind);
    try {
      results[kind] = [await echoRate(port), await idleBytes(port)];
    } finally {
      child.kill("SIGKILL");
    }
  }
  const base = results[kinds[0]!]![0];
  for (const kind of kinds) {
    const [rate, bytes] = results[kind]!;
    rows.push(`| ${runtime} | ${kind} | ${Math.round(rate).toLocaleString("en")} | ${(rate / base).toFixed(2)}× | ${(bytes / 1024).toFixed(1)} KiB |`);
  }
}
console.log(`\nWebSocket echo, ${CONNS} connections, 32-byte text, ${DURATION / 1000} s; memory: ${IDLE} idle sockets\n`);
console.log("| runtime | server | messages/s | vs first row of its runtime | RSS per idle socket |");
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(r);
