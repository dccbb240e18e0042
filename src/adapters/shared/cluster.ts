import { spawn } from "node:child_process";
import nodeCluster from "node:cluster";
import { availableParallelism } from "node:os";
import { TakoError } from "../../core/errors.ts";
import type { Runtime } from "../engine.ts";

/** Options of `cluster()`. */
export interface ClusterOptions {
  /** Worker processes to run. Default: the available parallelism (`os.availableParallelism()`). */
  readonly workers?: number;
  /** Delay before a crashed worker is restarted: `initial` ms, doubling per crash in a row to `max`. Default `{ initial: 100, max: 5_000 }`. */
  readonly restartBackoff?: { readonly initial: number; readonly max: number };
  /** Crashes tolerated within {@link crashWindow}; one more and the primary stops every worker and exits with code 1. Default 5. */
  readonly maxCrashes?: number;
  /** The window {@link maxCrashes} counts in, in ms. Default 60,000. */
  readonly crashWindow?: number;
  /** After SIGINT/SIGTERM, how long workers get to drain before they are killed (SIGKILL). Default 60,000 ms. */
  readonly shutdownTimeout?: number;
  /**
   * The command that starts a worker (program and arguments). Default: this process's own
   * command line (`process.execPath`, `process.execArgv`, the script and its arguments); on Deno
   * `deno run --unstable-net` (workers bind with `SO_REUSEPORT`, unstable there) with the
   * permissions this process holds in full (`--allow-net` …), since Deno does not report its
   * flags: give the command when the primary runs with scoped permissions. Not
   * used on Node, where workers are forked with `node:cluster`.
   */
  readonly command?: readonly string[];
}

/** The environment variable that tells a worker its index (1-based) and that it is one. */
export const WORKER_ENV = "TAKO_CLUSTER_WORKER";

/** This process's worker index when it is a `cluster()` worker, else `null`. */
export function clusterWorkerIndex(): number | null {
  const raw = process.env[WORKER_ENV];
  return raw === undefined || raw === "" ? null : Number(raw);
}

/**
 * In a worker: when the primary is gone (killed without a chance to stop its workers), the
 * worker signals itself SIGTERM, so it drains as its `shutdownOnSignals` says instead of serving
 * on as an orphan. `node:cluster` workers already exit when their IPC channel closes; child
 * processes on Bun and Deno are checked by parent pid once a second (an unref'd timer).
 */
export function watchPrimary(): void {
  if (nodeCluster.isWorker) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      process.kill(process.pid, "SIGTERM");
    }
  }, 1_000);
  timer.unref?.();
}

/**
 * Lets a worker whose `start` resolved end like a single process: a `node:cluster` worker's IPC
 * channel to the primary would keep it alive, so it is disconnected.
 */
export function workerFinished(): void {
  if (nodeCluster.isWorker) nodeCluster.worker?.disconnect();
}

/** A running worker process. */
interface Worker {
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

interface Resolved {
  readonly workers: number;
  readonly initial: number;
  readonly max: number;
  readonly maxCrashes: number;
  readonly crashWindow: number;
  readonly shutdownTimeout: number;
  readonly command: readonly string[] | null;
}

function resolve(options: ClusterOptions): Resolved {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new TakoError("TAKO_ERR_CONFIG", `cluster option "${field}" must be ${want}; got ${JSON.stringify(got)}`);
  };
  const int = (field: string, v: unknown, min: number): number =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= 2 ** 31 - 1 ? v : bad(field, `an integer >= ${min}`, v);
  const known = ["workers", "restartBackoff", "maxCrashes", "crashWindow", "shutdownTimeout", "command"];
  for (const key of Object.keys(options)) if (!known.includes(key)) bad(key, `one of ${known.join(", ")} (unknown option)`, key);
  const backoff = options.restartBackoff ?? { initial: 100, max: 5_000 };
  const initial = int("restartBackoff.initial", backoff.initial, 1);
  const max = int("restartBackoff.max", backoff.max, initial);
  const command = options.command ?? null;
  if (command !== null && (!Array.isArray(command) || command.length === 0 || command.some((c) => typeof c !== "string"))) {
    bad("command", "a non-empty array of strings", command);
  }
  return {
    workers: int("workers", options.workers ?? availableParallelism(), 1),
    initial,
    max,
    maxCrashes: int("maxCrashes", options.maxCrashes ?? 5, 0),
    crashWindow: int("crashWindow", options.crashWindow ?? 60_000, 1),
    shutdownTimeout: int("shutdownTimeout", options.shutdownTimeout ?? 60_000, 1),
    command,
  };
}

/** `deno run` and the permissions this process holds in full. */
function denoCommand(): string[] {
  const deno = (globalThis as unknown as { Deno: { permissions: { querySync(d: { name: string }): { state: string } }; mainModule: string; args: string[]; execPath(): string } })
    .Deno;
  const flags: string[] = [];
  for (const name of ["read", "write", "net", "env", "run", "sys", "ffi", "import"]) {
    try {
      if (deno.permissions.querySync({ name }).state === "granted") flags.push(`--allow-${name}`);
    } catch {
      // a permission name this Deno does not know
    }
  }
  const main = deno.mainModule.startsWith("file://") ? decodeURIComponent(new URL(deno.mainModule).pathname) : deno.mainModule;
  // --unstable-net: Deno binds with SO_REUSEPORT (how workers share the port) only with it.
  return [deno.execPath(), "run", "--unstable-net", ...flags, main, ...deno.args];
}

function forkWorker(runtime: Runtime, index: number, command: readonly string[] | null): Worker {
  const env = { ...process.env, [WORKER_ENV]: String(index) };
  if (runtime === "node" && command === null) {
    const worker = nodeCluster.fork(env);
    return {
      get pid() {
        return worker.process.pid;
      },
      kill: (signal) => worker.process.kill(signal),
      exited: new Promise((done) => worker.once("exit", (code: number | null, signal: string | null) => done({ code, signal }))),
    };
  }
  const argv = command ?? (runtime === "deno" ? denoCommand() : [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: "inherit" });
  return {
    get pid() {
      return child.pid;
    },
    kill: (signal) => {
      child.kill(signal);
    },
    exited: new Promise((done) => {
      child.once("exit", (code, signal) => done({ code, signal }));
      child.once("error", () => done({ code: 1, signal: null }));
    }),
  };
}

/**
 * The primary's loop: starts the workers, restarts a crashed one after a growing delay, forwards
 * SIGINT/SIGTERM as SIGTERM to every worker (each drains as its own `shutdownOnSignals` says)
 * and kills those still running after `shutdownTimeout`. Sets `process.exitCode` and resolves
 * with it: 0 after a signal, 1 when workers kept crashing.
 */
export async function superviseWorkers(
  runtime: Runtime,
  options: ClusterOptions,
  onSignals: (signals: readonly string[], handler: (signal: string) => void) => () => void,
): Promise<number> {
  const o = resolve(options);
  const live = new Map<number, Worker>();
  const crashes: number[] = [];
  let inARow = 0;
  let stopping = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((done) => (finish = done));
  const restarts = new Set<ReturnType<typeof setTimeout>>();

  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    for (const worker of live.values()) worker.kill("SIGTERM");
    const killer = setTimeout(() => {
      for (const worker of live.values()) worker.kill("SIGKILL");
    }, o.shutdownTimeout);
    const check = (): void => {
      if (live.size === 0) {
        clearTimeout(killer);
        finish(code);
      }
    };
    check();
    for (const worker of live.values()) void worker.exited.then(check);
  };

  const start = (index: number): void => {
    const worker = forkWorker(runtime, index, o.command);
    live.set(index, worker);
    const startedAt = Date.now();
    void worker.exited.then(({ code, signal }) => {
      live.delete(index);
      if (stopping) return;
      // Any exit the primary did not ask for is a crash, a clean one included: the worker was
      // meant to serve until told to stop.
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && crashes[0]! <= now - o.crashWindow) crashes.shift();
      if (now - startedAt > o.crashWindow) inARow = 0;
      inARow++;
      console.error(`tako cluster: worker ${index} (pid ${worker.pid}) exited (${signal ?? `code ${code}`}); ${crashes.length} crash(es) in ${o.crashWindow} ms`);
      if (crashes.length > o.maxCrashes) {
        console.error(`tako cluster: more than ${o.maxCrashes} crashes in ${o.crashWindow} ms; stopping`);
        stopAll(1);
        return;
      }
      const delay = Math.min(o.max, o.initial * 2 ** (inARow - 1));
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!stopping) start(index);
      }, delay);
      restarts.add(timer);
    });
  };

  const remove = onSignals(["SIGINT", "SIGTERM"], () => stopAll(0));
  for (let i = 1; i <= o.workers; i++) start(i);
  const code = await finished;
  remove();
  process.exitCode = code;
  return code;
}
