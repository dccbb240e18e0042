// HTTP/3 clients for the addon engine's tests: ngtcp2's gtlsclient (its log gives the server's
// transport parameters, Retry packets and stream error codes) and Bun's fetch over HTTP/3 in a
// child process. Every call is bounded in time.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface GtlsResult {
  /** The response's `:status`, or null when none arrived. */
  readonly status: number | null;
  /** Response header fields (lower-case names; repeated ones joined with ", "). */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** The server's QUIC transport parameters (`initial_max_streams_bidi` → "100"). */
  readonly params: Record<string, string>;
  /** The client received a Retry packet. */
  readonly retried: boolean;
  /** The HTTP/3 error codes request streams closed with (256 = H3_NO_ERROR). */
  readonly streamCodes: number[];
  /** The process exit code (null: killed at the time limit). */
  readonly exit: number | null;
  readonly log: string;
}

/** One request with gtlsclient. `data`: a file sent as the request body. */
export function gtls(port: number, path: string, opts: { method?: string; data?: string; timeoutMs?: number } = {}): Promise<GtlsResult> {
  const dir = mkdtempSync(join(tmpdir(), "tako-h3-dl-"));
  const args = ["--no-quic-dump", "--no-http-dump", `--download=${dir}`, "--exit-on-all-streams-close", "--timeout=10s"];
  if (opts.method !== undefined) args.push(`--http-method=${opts.method}`);
  if (opts.data !== undefined) args.push(`--data=${opts.data}`);
  args.push("127.0.0.1", String(port), `https://127.0.0.1:${port}${path}`);
  return new Promise((resolve) => {
    execFile("gtlsclient", args, { timeout: opts.timeoutMs ?? 15_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      const log = stdout + stderr;
      const name = path.split("?")[0]!.split("/").pop() || "index.html";
      const file = join(dir, name);
      const body = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
      rmSync(dir, { recursive: true, force: true });
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ ...parseLog(log), body, exit: code, log });
    });
  });
}

function parseLog(log: string): Omit<GtlsResult, "body" | "exit" | "log"> {
  const headers: Record<string, string> = {};
  const params: Record<string, string> = {};
  const streamCodes: number[] = [];
  let status: number | null = null;
  let inResponse = false;
  for (const line of log.split("\n")) {
    if (/response headers started/.test(line)) inResponse = true;
    else if (/headers ended/.test(line)) inResponse = false;
    const field = /(?:^|\s)\[(:?[^:\]\s]+): (.*)\]$/.exec(line.trim());
    if (inResponse && field !== null) {
      const [, name, value] = field;
      if (name === ":status") status = Number(value);
      else headers[name!] = headers[name!] === undefined ? value! : `${headers[name!]}, ${value}`;
    }
    const param = /remote transport_parameters (\w+)=(\S+)/.exec(line);
    if (param !== null) params[param[1]!] = param[2]!;
    const closed = /HTTP stream \d+ closed with error code (\d+)/.exec(line);
    if (closed !== null) streamCodes.push(Number(closed[1]));
  }
  return { status, headers, params, retried: /type=Retry/.test(log), streamCodes };
}

export interface BunResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  /** Set instead of the others when the fetch failed. */
  readonly error?: string;
}

/** Runs `test/h3-addon/_bun-fetch.ts` with `plan` (JSON) under Bun; its last stdout line is the JSON result. */
export function bunFetch<T = BunResult>(plan: Record<string, unknown>, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      join(root, "node_modules/.bin/bun"),
      [join(root, "test/h3-addon/_bun-fetch.ts"), JSON.stringify(plan)],
      { timeout: timeoutMs, encoding: "utf8" },
      (error, stdout, stderr) => {
        const last = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`bun fetch client failed (${error?.message ?? "no JSON"}): ${stdout}\n${stderr}`));
        }
      },
    );
  });
}
