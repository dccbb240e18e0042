// Node's http2 client, promisified: one request on a session, its status, headers and body.
import { connect, type ClientHttp2Session, type Settings, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from "node:http2";

export interface H2Result {
  status: number;
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader;
  body: Buffer;
  text: string;
}

export interface H2Options {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | (string | Uint8Array)[];
  timeoutMs?: number;
}

const firstSettings = new WeakMap<ClientHttp2Session, Promise<Settings>>();

/** Opens an h2c (prior knowledge) session to 127.0.0.1:`port`; resolves once connected. */
export function h2Session(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    firstSettings.set(session, new Promise((r) => session.once("remoteSettings", r)));
    session.once("connect", () => {
      session.off("error", reject);
      session.on("error", () => {});
      resolve(session);
    });
    session.once("error", reject);
  });
}

/** One request on `session` (a fresh session of its own when `session` is a port number). */
export async function h2(target: ClientHttp2Session | number, path: string, opts: H2Options = {}): Promise<H2Result> {
  const own = typeof target === "number";
  const session = own ? await h2Session(target) : target;
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ":method": opts.method ?? "GET", ":path": path, ...opts.headers }, { endStream: opts.body === undefined });
      const timer = setTimeout(() => stream.close() ?? reject(new Error(`h2 ${path} timed out`)), opts.timeoutMs ?? 10_000);
      let headers: (IncomingHttpHeaders & IncomingHttpStatusHeader) | null = null;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => (headers = h));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        clearTimeout(timer);
        if (headers === null) return reject(new Error(`h2 ${path}: stream ended without a response`));
        const body = Buffer.concat(chunks);
        resolve({ status: Number(headers[":status"]), headers, body, text: body.toString("utf8") });
      });
      stream.on("close", () => {
        clearTimeout(timer);
        if (headers === null || !stream.readableEnded) reject(new Error(`h2 ${path}: stream closed (rstCode ${stream.rstCode})`));
      });
      stream.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      const body = opts.body;
      if (Array.isArray(body)) for (const part of body) stream.write(part);
      else if (body !== undefined) stream.write(body);
      if (body !== undefined) stream.end();
    });
  } finally {
    if (own) session.close();
  }
}

/** The SETTINGS the server sent first (waits for them). */
export function remoteSettings(session: ClientHttp2Session): Promise<Settings> {
  const settings = firstSettings.get(session);
  if (settings === undefined) throw new Error("session was not opened with h2Session()");
  return settings;
}
