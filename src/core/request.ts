import { type BodyClock, type BodyDeadline, checkDeclaredLength, underClock, declaredLength, DEFAULT_BODY_LIMIT, limitedStream, readAll } from "./body.ts";
import type { ConnInfo } from "./conn-info.ts";
import { HttpError, type TakoError } from "./errors.ts";

/**
 * What follows a traced request (diagnostics, `adapters/shared/diagnostics.ts`): set by an engine
 * only while someone subscribes to the request channel. @internal
 */
export interface RequestTracer {
  /** An error reached the router's recovery for this request (thrown by a handler, middleware or a streamed body). */
  failed(error: unknown): void;
}

const consumed = (): TypeError => new TypeError("request body already consumed");
const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** JSON.parse with the client's mistake reported as 400. */
export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    return invalidJson(error);
  }
}

/** Throws the 400 for a body that is not JSON, with the parser's message. */
export function invalidJson(error: unknown): never {
  const why = error instanceof Error ? error.message : String(error);
  throw new HttpError(400, `invalid JSON in request body: ${why.slice(0, 200)}`);
}

/** A whole body kept as bytes. */
const asBytes = (bytes: Uint8Array): Uint8Array => bytes;
/** A whole body decoded as UTF-8. */
const asText = (bytes: Uint8Array): string => decoder.decode(bytes);
/** A whole body parsed as JSON (400 when it is not). */
const asJson = (bytes: Uint8Array): unknown => parseJson(decoder.decode(bytes));

/** What has been read of a request body, and in which form. */
class BodyState {
  used = false;
  /** The clock of a whole-body read under the body deadline. */
  clock: BodyClock | null = null;
  bytes: Promise<Uint8Array> | null = null;
  text: Promise<string> | null = null;
  json: Promise<unknown> | null = null;
}

/**
 * The request view a handler receives. Engines subclass it over their native request; nothing
 * is parsed or copied until a handler asks (path split, query, headers, body are lazy).
 *
 * Named `TakoRequest` so it never shadows the global Fetch `Request` in user code.
 */
export abstract class TakoRequest<P = Readonly<Record<string, string>>, S = unknown> {
  /** Path parameters of the matched route, percent-decoded. */
  params: P = EMPTY_PARAMS as P;
  /** The router's shared application state. */
  state: S = undefined as S;
  /** Body size limit in bytes for this request; bigger bodies are answered 413. */
  bodyLimit: number = DEFAULT_BODY_LIMIT;
  // Declared up front so every request object keeps one hidden class; the body's state lives
  // in one object made on first read, so requests that never read a body stay small.
  #query: URLSearchParams | null = null;
  #queryAt = -2;
  #path: string | null = null;
  #body: BodyState | null = null;
  /**
   * `req.signal`'s controller once a handler read it, or the abort reason decided before anyone
   * did (a timeout), or `null`: one field, and nothing allocated for requests that never ask.
   */
  #signal: AbortController | TakoError | null = null;
  /** This request's id, set by the `requestId()` middleware; `null` without it. */
  id: string | null = null;
  /** Diagnostics of this request, `null` unless someone subscribes to the request channel. @internal */
  tracer: RequestTracer | null = null;

  /** The request method, upper case as sent. */
  abstract get method(): string;
  /** The raw request target, e.g. `/users/7?full=1` (absolute-form targets are reduced to it). */
  abstract get target(): string;
  /** Connection facts: addresses, HTTP version, TLS. */
  abstract get conn(): ConnInfo;
  /** All request headers as a Fetch `Headers` object (built on first use). */
  abstract get headers(): Headers;
  /** One header by name, case-insensitively; `null` when absent. */
  abstract header(name: string): string | null;
  /** The raw body chunks, or `null` when the request has no body (for streaming reads). */
  protected abstract bodySource(): AsyncIterable<Uint8Array> | null;
  /**
   * Engines: the body deadline of the server this request came to (`null`: none, as for
   * `router.fetch`). Asked once, when a body read begins; engines answer from per-server or
   * per-connection state, so requests carry nothing for it.
   */
  protected bodyDeadline(): BodyDeadline | null {
    return null;
  }

  /**
   * Engines: the server's `handlerTimeout` (ms, `null`: none), asked by the router when an
   * async handler is pending; answered per server like {@link bodyDeadline}. @internal
   */
  handlerTimeout(): number | null {
    return null;
  }

  /**
   * Engines: start watching for the client leaving before the response is complete, and call
   * `abort` with the reason when it does (never after a complete response). Called once, when
   * a handler first reads {@link signal}: a request nobody asks about costs nothing.
   */
  protected watchClient(abort: (reason: TakoError) => void): void {
    void abort;
  }

  /**
   * Engines: call `done(status, complete)` once, when the response to this request is complete
   * (`complete` true) or abandoned because the connection or stream closed first (`false`), with
   * the status sent (or about to be; `0` when no status was chosen). Asked only for a traced
   * request (a diagnostics subscriber), so requests nobody traces pay nothing. The default
   * never calls `done` (`router.fetch` in process is not traced). @internal
   */
  watchResponse(done: (status: number, complete: boolean) => void): void {
    void done;
  }

  /**
   * Aborts when this request's work is no longer wanted, with a `TakoError` as `reason`:
   * `TAKO_ERR_CLIENT_GONE` when the client went away before the response was complete (an
   * HTTP/1.1 connection closed, an HTTP/2 stream reset, a TLS or PROXY connection failed),
   * `TAKO_ERR_HANDLER_TIMEOUT` past `handlerTimeout` or the route's `.timeout(ms)`,
   * `TAKO_ERR_DRAIN_DEADLINE` when the drain deadline cut the connection. Never aborted after a
   * complete response. Made on first read: pass it to `fetch`, database drivers, timers.
   *
   * ```ts
   * router.get("/report", async (req) => render(await db.query(sql, { signal: req.signal })));
   * ```
   */
  get signal(): AbortSignal {
    const held = this.#signal;
    if (held instanceof AbortController) return held.signal;
    const controller = new AbortController();
    this.#signal = controller;
    if (held !== null) controller.abort(held);
    else this.watchClient((reason) => this.abortSignal(reason));
    return controller.signal;
  }

  /** Engines and the router: aborts {@link signal} with `reason` (the first reason stands). @internal */
  abortSignal(reason: TakoError): void {
    const held = this.#signal;
    if (held === null) this.#signal = reason;
    else if (held instanceof AbortController && !held.signal.aborted) held.abort(reason);
  }

  #splitAt(): number {
    if (this.#queryAt === -2) this.#queryAt = this.target.indexOf("?");
    return this.#queryAt;
  }

  /** The path part of the target, still percent-encoded (params are decoded). */
  get path(): string {
    if (this.#path === null) {
      const at = this.#splitAt();
      this.#path = at === -1 ? this.target : this.target.slice(0, at);
    }
    return this.#path;
  }

  /** The query string without the leading `?`; `""` when there is none. */
  get rawQuery(): string {
    const at = this.#splitAt();
    return at === -1 ? "" : this.target.slice(at + 1);
  }

  /** The parsed query string. */
  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.rawQuery));
  }

  /** The `Last-Event-ID` a reconnecting Server-Sent Events client sends (see `sse()`); `null` without one. */
  get lastEventId(): string | null {
    return this.header("last-event-id");
  }

  /** The body as bytes, limited to `bodyLimit` (413 beyond it). Reading twice returns the same bytes. */
  bytes(): Promise<Uint8Array> {
    const b = (this.#body ??= new BodyState());
    return (b.bytes ??= b.text !== null ? b.text.then((t) => encoder.encode(t)) : this.#claim((limit) => this.readBody(limit), asBytes));
  }

  /** The body decoded as UTF-8. Reading twice returns the same text. */
  text(): Promise<string> {
    const b = (this.#body ??= new BodyState());
    return (b.text ??= b.bytes !== null ? b.bytes.then((bytes) => decoder.decode(bytes)) : this.#claim((limit) => this.readText(limit), asText));
  }

  /**
   * The first read takes the body; a later read in another form derives from it, except after
   * `json()` or `body`, which keep nothing to derive from: then it rejects.
   */
  #claim<T>(read: (limit: number) => Promise<T>, finish: (bytes: Uint8Array) => T): Promise<T> {
    const b = this.#body!;
    if (b.used) return Promise.reject(consumed());
    b.used = true;
    return this.#checked(() => read(this.bodyLimit), finish);
  }

  /**
   * Runs the read after the declared-length check, as one promise (no extra hop), under the
   * body deadline when the server has one: the engine's own whole-body reader
   * ({@link readWhole}) when it has one, else `read` under a {@link BodyClock}.
   */
  #checked<T>(read: () => Promise<T>, finish: (bytes: Uint8Array) => T): Promise<T> {
    try {
      const limit = this.bodyLimit;
      checkDeclaredLength(this.header("content-length"), limit);
      const deadline = this.bodyDeadline();
      const whole = this.readWhole(limit, deadline, finish, finish === (asBytes as unknown));
      if (whole !== null) return whole;
      if (deadline === null) return read();
      const b = this.#body!;
      return underClock(deadline, (clock) => {
        b.clock = clock;
        return read();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Engines: the clock of the whole-body read in progress (`null`: no deadline). A reader that
   * sees chunks reports each (`got`); one that reads natively, without progress, credits the
   * declared length once at the start, and may only do so within `nativeReadCredit`.
   */
  protected get bodyClock(): BodyClock | null {
    return this.#body?.clock ?? null;
  }

  /**
   * Engines that buffer a body themselves: the whole body, settled with `finish(bytes)` (what
   * `bytes()`, `text()` or `json()` make of it; a throw from it rejects), rejecting with a 413
   * `HttpError` past `limit` and with the 408 once `deadline` passes (`null`: none; the reader
   * keeps its own {@link BodyClock}). One promise from the last byte to the handler, instead of
   * one per step. `null`, the default: the engine has no such reader, and {@link readBody},
   * {@link readText} or {@link readJson} is used under a clock. `keeps`: `finish` hands the bytes
   * to the handler (`bytes()`), so they must be an array of their own; otherwise they are
   * dropped once `finish` returns, and may be a view of a shared buffer.
   */
  protected readWhole<T>(limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T, keeps: boolean): Promise<T> | null {
    void limit;
    void deadline;
    void finish;
    void keeps;
    return null;
  }

  /**
   * Engines: buffers the whole body, rejecting with a 413 `HttpError` past `limit`. The
   * default reads {@link bodySource}; engines override it with a native fast path.
   */
  protected readBody(limit: number): Promise<Uint8Array> {
    const source = this.bodySource();
    return source === null ? Promise.resolve(new Uint8Array(0)) : readAll(source, limit, this.bodyClock);
  }

  /** Engines: the body parsed as JSON (invalid JSON: a 400 `HttpError`); override for a native parser. */
  protected readJson(limit: number): Promise<unknown> {
    return this.readText(limit).then(parseJson);
  }

  /** Engines: the whole body as UTF-8 text; override for a native decode. */
  protected readText(limit: number): Promise<string> {
    return this.readBody(limit).then((bytes) => decoder.decode(bytes));
  }

  /**
   * The body parsed as JSON; invalid JSON is answered 400 with the parser's message. Calling it
   * again returns the same value; `text()` or `bytes()` after `json()` rejects (the body was
   * parsed without keeping its text).
   */
  json<T = unknown>(): Promise<T> {
    const b = (this.#body ??= new BodyState());
    return (b.json ??= b.text !== null || b.bytes !== null ? this.text().then(parseJson) : this.#claim((limit) => this.readJson(limit), asJson)) as Promise<T>;
  }

  /**
   * The body as a stream, for uploads processed as they arrive. It errors with a 413
   * `HttpError` once more than `bodyLimit` bytes went through, and with a 400 when the client
   * abandons the upload (or it ends short of its Content-Length), and with a 408 when it does
   * not arrive within the server's body deadline. `null` without a body.
   */
  get body(): ReadableStream<Uint8Array> | null {
    const b = (this.#body ??= new BodyState());
    if (b.used) throw consumed();
    b.used = true;
    const length = this.header("content-length");
    checkDeclaredLength(length, this.bodyLimit);
    const source = this.bodySource();
    return source === null ? null : limitedStream(source, this.bodyLimit, declaredLength(length), this.bodyDeadline());
  }
}
