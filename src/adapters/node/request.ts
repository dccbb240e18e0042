import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { ConnInfo } from "../../core/conn-info.ts";
import { connInfoOf } from "./conn.ts";
import { proxiedHeader, proxiedHeaders, proxyOf } from "./proxy-transport.ts";
import { pathStart } from "../../core/fetch-request.ts";
import { tooLarge } from "../../core/body.ts";
import { HttpError } from "../../core/errors.ts";
import { parseJson, TakoRequest } from "../../core/request.ts";

export const utf8 = (body: Uint8Array): string => (body as Buffer).toString("utf8");
export const parseUtf8Json = (body: Uint8Array): unknown => parseJson((body as Buffer).toString("utf8"));

/**
 * Buffers a Node readable body (an `IncomingMessage` or an HTTP/2 stream), rejecting with 413
 * past `limit`. Three listeners, never removed (they go with the request): adding and removing
 * listeners per request costs more than the reading itself on small bodies. An aborted upload
 * surfaces as an 'error' (ECONNRESET, stream reset) and becomes a 400.
 */
export function collect(body: Readable | null, limit: number): Promise<Buffer> {
  if (body === null) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    let done = false;
    body.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        body.pause();
        return reject(tooLarge(limit));
      }
      if (first === null) first = chunk;
      else (chunks ??= [first]).push(chunk);
    });
    body.on("end", () => {
      if (done) return;
      done = true;
      resolve(chunks !== null ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0)));
    });
    body.on("error", (error: Error) => {
      if (done) return;
      done = true;
      reject(new HttpError(400, `request body aborted: ${error.message}`));
    });
  });
}

/**
 * The request view over `IncomingMessage`: method and target are read straight from it; the
 * Fetch `Headers` and the connection facts are built only when a handler touches them.
 */
export class NodeRequest extends TakoRequest {
  readonly native: IncomingMessage;
  #headers: Headers | null = null;
  #conn: ConnInfo | null = null;

  constructor(native: IncomingMessage) {
    super();
    this.native = native;
  }

  get method(): string {
    return this.native.method!;
  }

  get target(): string {
    const url = this.native.url!;
    // Origin-form ("/path") is the common case: one char compare, no copy.
    if (url.charCodeAt(0) === 47) return url;
    const at = pathStart(url);
    return at === 0 ? url : at === url.length ? "/" : url.slice(at);
  }

  get conn(): ConnInfo {
    if (this.#conn === null) {
      this.#conn = connInfoOf(this.native.socket, "1.1");
    }
    return this.#conn;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      const raw = this.native.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
      const proxy = proxyOf(this.native.socket);
      this.#headers = proxy === null ? h : proxiedHeaders(h, proxy);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const c = key.charCodeAt(0);
    if (c === 102 || c === 120) {
      // "forwarded" / "x-forwarded-*" on a proxied connection come from the PROXY header.
      const proxy = proxyOf(this.native.socket);
      const own = proxy === null ? undefined : proxiedHeader(key, proxy);
      if (own !== undefined) return own;
    }
    const value = this.native.headers[key];
    if (value === undefined) return null;
    return typeof value === "string" ? value : value.join(", ");
  }

  // 'data' events are several times cheaper than the async iterator for whole-body reads.
  protected override readBody(limit: number): Promise<Uint8Array> {
    return collect(this.bodySource() === null ? null : this.native, limit);
  }

  protected override readText(limit: number): Promise<string> {
    return this.readBody(limit).then(utf8);
  }

  protected override readJson(limit: number): Promise<unknown> {
    return this.readBody(limit).then(parseUtf8Json);
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    const h = this.native.headers;
    if (h["transfer-encoding"] === undefined && (h["content-length"] === undefined || h["content-length"] === "0")) return null;
    return this.native;
  }
}
