import { declaredLength, nativeReadCredit, rejectBody, shortBody } from "./body.ts";
import { IN_PROCESS_CONN, type ConnInfo } from "./conn-info.ts";
import { absoluteAuthority, originForm } from "./request-rules.ts";
import { invalidJson, TakoRequest } from "./request.ts";
import { clientGone, type TakoError } from "./errors.ts";

/** JSON parse errors are the client's malformed JSON (400); anything else a failed read (400 too). */
const rejectJson = (error: unknown): never => (error instanceof SyntaxError ? invalidJson(error) : rejectBody(error));

/**
 * The request view over a Fetch `Request`: used by `router.fetch` and by the engines whose
 * native server speaks Fetch (Bun, Deno).
 */
export class FetchRequest extends TakoRequest {
  readonly #native: Request;
  #conn: ConnInfo | null;
  #method: string | null = null;
  #target: string | null = null;
  /** The authority that replaces Host (absolute-form), `null` for none; `undefined`: not looked up yet. */
  #authority: string | null | undefined = undefined;
  #headers: Headers | null = null;

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
    if (this.#target === null) this.#target = originForm(this.#native.url);
    return this.#target;
  }

  get conn(): ConnInfo {
    return (this.#conn ??= this.makeConn());
  }

  /** Engines: the connection facts of this request, built when a handler first asks. */
  protected makeConn(): ConnInfo {
    return IN_PROCESS_CONN;
  }

  /**
   * The authority the request-target named when it differs from the Host header: the target's
   * authority wins (absolute-form, RFC 9112 §3.2.2; see core/request-rules.ts). Here the Fetch
   * URL is the target URI: so it is for `router.fetch`, and Deno.serve keeps an absolute-form
   * target's authority in the URL it builds (measured). `null`: Host stands. Engines whose URL
   * is rebuilt from Host override this.
   */
  protected targetAuthority(host: string): string | null {
    const authority = absoluteAuthority(this.#native.url);
    return authority === null || authority === host ? null : authority;
  }

  #authorityOf(host: string | null): string | null {
    // An empty Host says the target had no authority (RFC 9112 §3.2): nothing to replace it with.
    if (this.#authority === undefined) this.#authority = host === null || host === "" ? null : this.targetAuthority(host);
    return this.#authority;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const native = this.#native.headers;
      const authority = this.#authorityOf(native.get("host"));
      if (authority === null) this.#headers = native;
      else {
        // The native headers are immutable on Bun and Deno: copy them (absolute-form only).
        this.#headers = new Headers(native);
        this.#headers.set("host", authority);
      }
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const value = this.#native.headers.get(name);
    if (value === null || name.length !== 4 || name.toLowerCase() !== "host") return value;
    return this.#authorityOf(value) ?? value;
  }

  /**
   * In process (`router.fetch`): the caller aborting the Fetch `Request`'s own signal is the
   * client going away. Engines whose runtime aborts that signal differently override this.
   */
  protected override watchClient(abort: (reason: TakoError) => void): void {
    const native = this.#native.signal;
    if (native.aborted) return abort(clientGone());
    native.addEventListener("abort", () => abort(clientGone()), { once: true });
  }

  /** The underlying Fetch `Request`. */
  get raw(): Request {
    return this.#native;
  }

  // With a declared length (already checked against the limit) the native readers are the
  // fastest path; a chunked body is counted chunk by chunk instead. A read that fails because the
  // client went away is a 400 (`rejectBody`), not a server error.
  protected override readBody(limit: number): Promise<Uint8Array> {
    const declared = this.#nativeRead();
    if (declared === null) {
      const length = declaredLength(this.#native.headers.get("content-length"));
      if (length === null) return super.readBody(limit);
      // Read chunk by chunk (a body deadline): still checked against its declared length.
      return super.readBody(limit).then((b) => {
        if (b.byteLength < length) throw shortBody(b.byteLength, length);
        return b;
      });
    }
    return this.#native.arrayBuffer().then((b) => {
      // A body cut short by a reset that the runtime ended as if complete (Deno.serve's HTTP/2).
      if (b.byteLength < declared) throw shortBody(b.byteLength, declared);
      return new Uint8Array(b);
    }, rejectBody);
  }

  protected override readJson(limit: number): Promise<unknown> {
    if (this.#nativeRead() !== null) return this.#native.json().catch(rejectJson);
    return super.readJson(limit);
  }

  protected override readText(limit: number): Promise<string> {
    if (this.#nativeRead() !== null) return this.#native.text().catch(rejectBody);
    return super.readText(limit);
  }

  /**
   * The declared length when the native whole-body readers may read this body, else `null`
   * (then it is read chunk by chunk): they need a length, and under a body deadline they report
   * no progress, so the length is credited at the start and must be small (`nativeReadCredit`).
   */
  #nativeRead(): number | null {
    const declared = declaredLength(this.#native.headers.get("content-length"));
    if (declared === null) return null;
    const clock = this.bodyClock;
    if (clock === null) return declared;
    if (declared > nativeReadCredit(this.bodyDeadline())) return null;
    clock.got(declared);
    return declared;
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    return this.#native.body as (ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>) | null;
  }
}
