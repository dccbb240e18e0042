// Node's http client, promisified: status, headers and the whole body as a Buffer.
import { type Agent, request, type IncomingHttpHeaders } from "node:http";
import { execFile } from "node:child_process";

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Local port of the client socket (to check keep-alive reuse and req.conn). */
  localPort: number;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | (string | Uint8Array)[];
  agent?: Agent | false;
  timeoutMs?: number;
}

export function http(port: number, path: string, opts: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString("utf8"), localPort: req.socket?.localPort ?? 0 });
      });
      res.on("error", reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.on("error", reject);
    const body = opts.body;
    if (Array.isArray(body)) for (const part of body) req.write(part);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Runs curl; resolves with its stdout (it must exit 0). */
export function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["--silent", "--show-error", "--max-time", "10", ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}
