// Starts the listener fixture under a runtime with extra descriptors, a wrapper command or
// runtime flags (fd adoption, systemd activation, Deno's --unstable-net), which the shared
// spawn helper does not take; waits for "READY" or the exit.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { commandFor, type Runtime } from "../_shared/spawn.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = `${root}test/listeners/_main.ts`;

export interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  /** The value after `PREFIX ` on the first stdout line that starts with it. */
  line(prefix: string): string | undefined;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface ProcOptions {
  readonly env?: Record<string, string>;
  /** Descriptors of this process the child gets as 3, 4, … */
  readonly fds?: readonly number[];
  /** Deno flags before the file (e.g. `--unstable-net`). */
  readonly denoFlags?: readonly string[];
  /** Run through `bash -c` with this prelude before `exec` (e.g. to set LISTEN_PID=$$). */
  readonly prelude?: string;
}

/** Starts the fixture; resolves once it printed READY or exited. */
export async function startProc(runtime: Runtime, options: ProcOptions = {}): Promise<Proc> {
  let [cmd, args] = commandFor(runtime, MAIN);
  if (runtime === "deno" && options.denoFlags !== undefined) args = [args[0]!, ...options.denoFlags, ...args.slice(1)];
  if (options.prelude !== undefined) {
    args = ["-c", `${options.prelude}; exec "$0" "$@"`, cmd, ...args];
    cmd = "bash";
  }
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe", ...(options.fds ?? [])],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} listener fixture: no READY in 30 s; stdout ${lines.join(" | ")}; stderr ${err}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      if (line.startsWith("READY")) {
        clearTimeout(timer);
        resolve();
      }
    });
    exited.then(() => {
      clearTimeout(timer);
      // Let the last lines arrive.
      setTimeout(resolve, 50);
    });
  });
  return {
    child,
    lines,
    stderr: () => err,
    line: (prefix) => lines.find((l) => l.startsWith(`${prefix} `))?.slice(prefix.length + 1),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
