// HTTP/3 clients for the Node test runner: Bun's fetch over HTTP/3 in a Bun child process
// (h3-client.ts), and gtlsclient (Debian's ngtcp2-client) for what only a wire-level client
// shows: transport parameters, HTTP/3 frames, connection closes.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { commandFor } from "./spawn.ts";

/** One request of an {@link H3Job}. */
export interface H3Request {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** A string, or `size` bytes of `byte` (default `x`). */
  readonly body?: string | { readonly size: number; readonly byte?: number };
  /** Streaming: read the first chunk, then POST this path (releasing the handler), then the rest. */
  readonly releasePath?: string;
  /** Client-side deadline for the whole request; default 10 s. */
  readonly timeoutMs?: number;
}

export interface H3Job {
  readonly port: number;
  readonly requests: readonly H3Request[];
  /** All at once (separate connections) instead of one after another. */
  readonly parallel?: boolean;
}

export type H3Result =
  | {
      readonly ok: true;
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly length: number;
      readonly sha256: string;
      /** The body as text (first 65,536 characters). */
      readonly text: string;
      /** Streaming: the first chunk and the rest. */
      readonly chunks: readonly string[];
      readonly ms: number;
    }
  | { readonly ok: false; readonly error: string; readonly message: string; readonly ms: number };

const clientFile = fileURLToPath(new URL("./h3-client.ts", import.meta.url));

/** Runs `job` with Bun's HTTP/3 fetch in a Bun child process; one result per request, in order. */
export function h3Fetch(job: H3Job, timeoutMs = 60_000): Promise<H3Result[]> {
  const [cmd, args] = commandFor("bun", clientFile);
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args, JSON.stringify(job)], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`h3 client failed: ${error.message}\n${stderr}`));
      resolve(
        stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as H3Result),
      );
    });
  });
}

/** `h3Fetch` of one request. */
export async function h3One(port: number, request: H3Request): Promise<H3Result> {
  const [result] = await h3Fetch({ port, requests: [request] });
  return result!;
}

/** What gtlsclient printed, parsed. */
export interface GtlsResult {
  readonly code: number | null;
  readonly out: string;
  /** The first response's status, 0 for none. */
  readonly status: number;
  /** The first response's header fields, in order. */
  readonly headers: readonly [string, string][];
  /** The server's QUIC transport parameters. */
  readonly transport: Record<string, string>;
  readonly ms: number;
}

export interface GtlsOptions {
  /** Dump QUIC STREAM data (to see HTTP/3 control-stream frames such as GOAWAY). */
  readonly quicDump?: boolean;
  /** Do not exit when the requests are done: the connection stays until it is closed (idle timeout). */
  readonly stayOpen?: boolean;
}

/** True when `out` (a gtlsclient dump) shows an HTTP/3 GOAWAY frame (type 0x07) on the server's control stream (id 3). */
export function sawGoaway(out: string): boolean {
  return /STREAM\(0x0[a-f]\) id=0x3 fin=0 offset=[1-9]\d* len=\d+ uni=1\s+Ordered STREAM data stream_id=0x3\s+00000000 {2}07 /.test(out);
}

/**
 * Runs `gtlsclient` against 127.0.0.1:`port` for `paths` (`args`: more options), with
 * QUIC-frame dumps off, bounded by `timeoutMs`. The SNI is `localhost` (the test certificate's name).
 */
export function gtls(port: number, paths: readonly string[], args: readonly string[] = [], timeoutMs = 15_000, opts: GtlsOptions = {}): Promise<GtlsResult> {
  const started = Date.now();
  const urls = paths.map((p) => `https://localhost:${port}${p}`);
  const own = [...(opts.quicDump === true ? [] : ["--no-quic-dump"]), "--sni=localhost", ...(opts.stayOpen === true ? [] : ["--exit-on-all-streams-close"])];
  return new Promise((resolve) => {
    execFile(
      "gtlsclient",
      [...own, ...args, "127.0.0.1", String(port), ...urls],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "latin1" },
      (error, stdout, stderr) => {
        const out = stdout + stderr;
        const headers: [string, string][] = [];
        for (const m of out.matchAll(/^http: stream 0x0 \[([^:\]]+|:[a-z]+): (.*)\]$/gm)) headers.push([m[1]!, m[2]!]);
        const status = Number(headers.find(([n]) => n === ":status")?.[1] ?? 0);
        const transport: Record<string, string> = {};
        for (const m of out.matchAll(/remote transport_parameters (\w+)=(\S+)/g)) transport[m[1]!] = m[2]!;
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, out, status, headers, transport, ms: Date.now() - started });
      },
    );
  });
}
