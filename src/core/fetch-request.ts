import { IN_PROCESS_CONN, type ConnInfo } from "./conn-info.ts";
import { invalidJson, TakoRequest } from "./request.ts";

/**
 * Offset of the path in an absolute URL or absolute-form target (`http://host/p?q` → index of
 * `/p`); 0 for an origin-form target. A single scan instead of `new URL()`.
 */
export function pathStart(url: string): number {
  if (url.charCodeAt(0) === 47 /* "/" */) return 0;
  const scheme = url.indexOf("://");
  if (scheme === -1) return 0;
  const at = url.indexOf("/", scheme + 3);
  return at === -1 ? url.length : at;
}

/**
 * The request view over a Fetch `Request`: used by `router.fetch` and by the engines whose
 * native server speaks Fetch (Bun, Deno).
 */
export class FetchRequest extends TakoRequest {
  readonly #native: Request;
  #conn: ConnInfo | null;
  #method: string | null = null;
  #target: string | null = null;

  /** `conn` omitted: engines override {@link makeConn}, called on first use of `req.conn`. */
  constructor(native: Request, conn: ConnInfo | null = IN_PROCESS_CONN) {
    super();
    this.#native = native;
    this.#conn = conn;
  }

  // Read once: on Bun and Deno every property read of the native request crosses into native code.
  get method(): string {
    return (this.#method ??= this.#native.method);
  }

  get target(): string {
    if (this.#target === null) {
      const url = this.#native.url;
      const at = pathStart(url);
      this.#target = at === url.length ? "/" : url.slice(at);
    }
    return this.#target;
  }

  get conn(): ConnInfo {
    return (this.#conn ??= this.makeConn());
  }

  /** Engines: the connection facts of this request, built when a handler first asks. */
  protected makeConn(): ConnInfo {
    return IN_PROCESS_CONN;
  }

  get headers(): Headers {
    return this.#native.headers;
  }

  header(name: string): string | null {
    return this.#native.headers.get(name);
  }

  /** The underlying Fetch `Request`. */
  get raw(): Request {
    return this.#native;
  }

  // With a declared length (already checked against the limit) the native readers are the
  // fastest path; a chunked body is counted chunk by chunk instead.
  protected override readBody(limit: number): Promise<Uint8Array> {
    if (this.#native.headers.has("content-length")) return this.#native.arrayBuffer().then((b) => new Uint8Array(b));
    return super.readBody(limit);
  }

  protected override readJson(limit: number): Promise<unknown> {
    if (this.#native.headers.has("content-length")) return this.#native.json().catch(invalidJson);
    return super.readJson(limit);
  }

  protected override readText(limit: number): Promise<string> {
    if (this.#native.headers.has("content-length")) return this.#native.text();
    return super.readText(limit);
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    return this.#native.body as (ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>) | null;
  }
}
