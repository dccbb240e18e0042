// Starts a fixture server under a runtime as a child process and waits for its "READY <port>"
// line: no sleeps, no fixed ports (the fixture binds port 0 and reports the real one).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export type Runtime = "node" | "bun" | "deno";
export const RUNTIMES: readonly Runtime[] = ["node", "bun", "deno"];

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (name: string): string => `${root}node_modules/.bin/${name}`;

/** The command line that runs a TypeScript file under `runtime`. */
export function commandFor(runtime: Runtime, file: string): [string, string[]] {
  if (runtime === "bun") return [bin("bun"), [file]];
  if (runtime === "deno") return [bin("deno"), ["run", "-A", "--quiet", file]];
  return [process.execPath, ["--import", "tsx", file]];
}

export interface Fixture {
  readonly runtime: Runtime;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the fixture wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first stdout line (past or future) matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startFixture(runtime: Runtime, file: string, env: Record<string, string> = {}, opts: { fdLimit?: number } = {}): Promise<Fixture> {
  let [cmd, args] = commandFor(runtime, fileURLToPath(new URL(file, `file://${root}`)));
  if (opts.fdLimit !== undefined) {
    // A low descriptor limit for this process only (EMFILE tests).
    args = ["-c", `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, cmd, ...args];
    cmd = "bash";
  }
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const seen: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  lines.on("line", (line) => {
    seen.push(line);
    for (const w of [...waiters]) {
      const m = w.re.exec(line);
      if (m !== null) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} fixture ${file} did not start in 30 s; stderr:\n${err}`)), 30_000);
    lines.on("line", (line) => {
      // Fixtures print "READY <port>"; examples print "listening on http(s)://host:port".
      const m = /^READY (\d+)$/.exec(line) ?? /listening on https?:\/\/\S+:(\d+)/.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} fixture ${file} exited with ${code} before READY; stderr:\n${err}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  return {
    runtime,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    stderr: () => err,
    exited,
    waitForLine(re, timeoutMs = 15_000) {
      for (const line of seen) {
        const m = re.exec(line);
        if (m !== null) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} in ${timeoutMs} ms; stdout so far: ${seen.join(" | ")}; stderr: ${err}`)), timeoutMs);
        waiters.push({ re, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * A fixture for the enclosing describe block: started in `before`, checked to be still alive
 * and stopped in `after`. Read `f` and `port` inside tests.
 */
export function useFixture(runtime: Runtime, file: string, env: Record<string, string> = {}): { readonly f: Fixture; readonly port: number } {
  const holder = { f: null as unknown as Fixture, port: 0 };
  before(async () => {
    holder.f = await startFixture(runtime, file, env);
    holder.port = holder.f.port;
  });
  after(async () => {
    assert.equal(holder.f.child.exitCode, null, `${runtime} fixture ${file} died; stderr:\n${holder.f.stderr()}`);
    await holder.f.stop();
  });
  return holder;
}
