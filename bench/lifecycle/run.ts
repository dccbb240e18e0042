// Lifecycle benchmarks (Node.js), printed as markdown tables:
//  1. 10,000 idle keep-alive connections: server RSS per connection, tako vs raw node:http, and
//     the time from SIGTERM until every connection is closed.
//  2. Graceful shutdown under wrk load: SIGTERM mid-run; failed requests (non-2xx, read errors
//     on an accepted connection) must be 0. Connect errors after the trigger are the refused
//     new connects the drain promises, and are reported separately.
// Server pinned to CPU 0, clients to CPU 1. Usage: tsx bench/lifecycle/run.ts [--conns N]
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildPackage, NODE_SERVER } from "../node-package.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const CONNS = arg("conns", 10_000);

interface Srv {
  child: ChildProcess;
  port: number;
  line(re: RegExp): Promise<RegExpExecArray>;
}

function startServer(env: Record<string, string>): Promise<Srv> {
  const child = spawn("taskset", ["-c", "0", ...NODE_SERVER, "bench/lifecycle/server.ts"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const seen: string[] = [];
  const waiters: [RegExp, (m: RegExpExecArray) => void][] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    seen.push(l);
    for (const w of [...waiters]) {
      const m = w[0].exec(l);
      if (m) waiters.splice(waiters.indexOf(w), 1), w[1](m);
    }
  });
  const line = (re: RegExp): Promise<RegExpExecArray> => {
    for (const l of seen) {
      const m = re.exec(l);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve) => waiters.push([re, resolve]));
  };
  return line(/^READY (\d+)$/).then((m) => ({ child, port: Number(m[1]), line }));
}

async function get(port: number, path: string): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).text();
}

/** Opens `n` connections, each sends one request and stays open (idle keep-alive). */
async function idleConnections(port: number, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, n - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: b\r\n\r\n"));
            s.once("data", () => resolve());
            s.once("error", reject);
            sockets.push(s);
          }),
      ),
    );
  }
  return sockets;
}

async function idleBench(label: string, env: Record<string, string>): Promise<string> {
  const srv = await startServer(env);
  for (let i = 0; i < 200; i++) await get(srv.port, "/"); // warm up
  const before = Number(await get(srv.port, "/rss"));
  const sockets = await idleConnections(srv.port, CONNS);
  await new Promise((r) => setTimeout(r, 500));
  const after = Number(await get(srv.port, "/rss"));
  const closed = Promise.all(sockets.map((s) => new Promise((r) => (s.destroyed ? r(null) : s.once("close", r)))));
  const t0 = Date.now();
  srv.child.kill("SIGTERM");
  await closed;
  const clientSeen = Date.now() - t0;
  const stopped = Number((await srv.line(/^STOPPED (\d+) \d+$/))[1]);
  return `| ${label} | ${((after - before) / 1024 / 1024).toFixed(1)} MiB | ${((after - before) / CONNS / 1024).toFixed(2)} KiB | ${clientSeen} ms | ${stopped} ms |`;
}

function wrk(port: number, seconds: number): Promise<string> {
  return new Promise((resolve) => {
    execFile("taskset", ["-c", "1", "wrk", "-t1", "-c64", `-d${seconds}s`, `http://127.0.0.1:${port}/`], (_e, out) => resolve(out));
  });
}

async function drainBench(label: string, env: Record<string, string>): Promise<string> {
  const srv = await startServer(env);
  const run = wrk(srv.port, 4);
  await new Promise((r) => setTimeout(r, 2000));
  srv.child.kill("SIGTERM");
  const out = await run;
  const end = await srv.line(/^STOPPED (\d+) (\d+)$/);
  const stopped = Number(end[1]);
  const handled = Number(end[2]);
  const requests = /(\d+) requests in/.exec(out)?.[1] ?? "?";
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
  const [connectE, readE, writeE] = errs ? errs.slice(1).map(Number) : [0, 0, 0, 0];
  const lost = Number(requests) - handled;
  return `| ${label} | ${handled} | ${requests} | ${-lost} | ${non2xx} | ${readE} | ${(writeE ?? 0) + (connectE ?? 0)} | ${stopped} ms |`;
}

buildPackage();
console.log(`## Idle keep-alive connections (${CONNS}), Node ${process.version}\n`);
console.log("| server | RSS growth | per connection | SIGTERM → all closed (client) | SIGTERM → join() |\n|---|---:|---:|---:|---:|");
console.log(await idleBench("raw node:http (close + closeIdleConnections)", { RAW: "1" }));
console.log(await idleBench("tako spawnHttp (defaults)", {}));
console.log("\n## Graceful shutdown under wrk load (SIGTERM 2 s into a 4 s run, 64 connections)\n");
console.log(
  "| server | requests handled by the server | responses wrk received | handled but not received | non-2xx | wrk read errors (request sent as its idle connection closed) | wrk write/connect errors (reconnects refused after the trigger) | SIGTERM → join() |\n|---|---:|---:|---:|---:|---:|---:|---:|",
);
for (let round = 0; round < 3; round++) {
  console.log(await drainBench("raw node:http (close + closeIdleConnections)", { RAW: "1" }));
  console.log(await drainBench("tako spawnHttp (defaults)", {}));
}
