/**
 * HTTP/3 on Node.js and Deno with the addon: tako's spawnH3 against the addon's raw stream API
 * answering GET / (same certificate, 100 bidi streams, no Retry).
 *
 *   node --import tsx bench/h3-addon/run.ts [--runtime node,deno] [--rounds 3] [--duration 5] [--concurrency 128]
 *
 * The server runs pinned to CPU 0 (`taskset -c 0`), the load client (Bun's fetch over HTTP/3,
 * _load.ts, one process, `concurrency` request loops sharing its HTTP/3 connection) to CPU 1.
 * Contenders alternate within each round (order rotated every round); each server is started
 * fresh and killed after its run. Prints each run and the median req/s per runtime and contender,
 * with tako's ratio to raw. The addon's own worker thread does the QUIC work next to the event
 * loop, both on CPU 0.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildPackage, NODE_SERVER } from "../node-package.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const { values } = parseArgs({
  options: {
    runtime: { type: "string", default: "node,deno" },
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    concurrency: { type: "string", default: "128" },
  },
});
const bin = (name: string): string => `${root}node_modules/.bin/${name}`;

function command(runtime: string, file: string): string[] {
  return runtime === "deno" ? [bin("deno"), "run", "-A", "--quiet", file] : [...NODE_SERVER, file];
}

async function start(runtime: string, file: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn("taskset", ["-c", "0", ...command(runtime, `${root}bench/h3-addon/${file}`)], { cwd: root, stdio: ["ignore", "pipe", "inherit"], detached: true });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} on ${runtime} did not start`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^READY (\d+)$/.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port };
}

function load(port: number): Promise<{ requests: number; errors: number; rps: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", "1", bin("bun"), `${root}bench/h3-addon/_load.ts`, `https://127.0.0.1:${port}/`, values.duration!, values.concurrency!, "1"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d));
    child.on("exit", () => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!));
      } catch {
        reject(new Error(`load client printed ${out}`));
      }
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const contenders = [
  ["raw", "_raw.ts"],
  ["tako", "_tako.ts"],
] as const;
if (values.runtime!.split(",").includes("node")) buildPackage();
for (const runtime of values.runtime!.split(",")) {
  const results: Record<string, number[]> = { raw: [], tako: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const [name, file] of order) {
      const { child, port } = await start(runtime, file);
      const r = await load(port);
      process.kill(-child.pid!, "SIGKILL");
      console.log(`${runtime} round ${round + 1} ${name}: ${r.rps} req/s (${r.requests} ok, ${r.errors} errors)`);
      if (r.errors > 0) console.log("  ^ errors: this run does not count");
      else results[name]!.push(r.rps);
    }
  }
  const raw = median(results.raw!);
  const tako = median(results.tako!);
  console.log(`${runtime}: raw ${raw} req/s, tako ${tako} req/s, tako/raw ${(tako / raw).toFixed(2)} (medians of ${values.rounds})`);
}
