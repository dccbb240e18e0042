import type { ServerHttp2Stream } from "node:http2";
import type { Readable } from "node:stream";
import type { ConnInfo } from "../../core/conn-info.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import type { BodyDeadline } from "../../core/body.ts";
import { TakoRequest } from "../../core/request.ts";
import type { TakoError } from "../../core/errors.ts";
import { proxiedHeader, proxiedHeaders } from "../shared/proxied-headers.ts";
import { collect, goneReason, type ServedState } from "./request.ts";

/** What the HTTP/2 request view needs of its connection. */
export interface H2ConnFacts {
  readonly conn: ConnInfo;
  readonly proxy: ProxyHeader | null;
  readonly resets: { completed(): void };
  /** The server's body deadline. */
  readonly bodyDeadline: BodyDeadline | null;
  readonly handlerTimeout: number | null;
  readonly served: ServedState;
}

/** A header map keyed by lower-case name, pseudo-headers (`:method` …) included. */
export type PseudoHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The request view over an HTTP/2 stream: pseudo-headers give method and target; `Host` falls
 * back to `:authority`, so handlers read the same headers as on HTTP/1.1. HTTP/3 streams carry
 * the same pseudo-headers (RFC 9114 §4.3.1) and use this view too (`S`: their stream type).
 */
export class H2Request<S extends Readable = ServerHttp2Stream> extends TakoRequest {
  readonly native: S;
  readonly #h: PseudoHeaders;
  /** The HEADERS frame ended the stream: the request has no body. */
  readonly #noBody: boolean;
  readonly #facts: H2ConnFacts;
  #headers: Headers | null = null;

  constructor(native: S, headers: PseudoHeaders, noBody: boolean, facts: H2ConnFacts) {
    super();
    this.native = native;
    this.#h = headers;
    this.#noBody = noBody;
    this.#facts = facts;
  }

  get method(): string {
    return this.#h[":method"] as string;
  }

  get target(): string {
    return (this.#h[":path"] as string | undefined) ?? "/";
  }

  get conn(): ConnInfo {
    return this.#facts.conn;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      const raw = this.#h;
      for (const name in raw) {
        if (name.charCodeAt(0) === 58) continue; // pseudo-headers (':…')
        const value = raw[name];
        if (typeof value === "string") h.append(name, value);
        else if (value !== undefined) for (const v of value) h.append(name, v);
      }
      const authority = raw[":authority"];
      if (!h.has("host") && typeof authority === "string") h.set("host", authority);
      const proxy = this.#facts.proxy;
      this.#headers = proxy === null ? h : proxiedHeaders(h, proxy);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const proxy = this.#facts.proxy;
    if (proxy !== null) {
      const own = proxiedHeader(key, proxy);
      if (own !== undefined) return own;
    }
    const value = this.#h[key] ?? (key === "host" ? this.#h[":authority"] : undefined);
    if (value === undefined) return null;
    return typeof value === "string" ? value : value.join(", ");
  }

  override handlerTimeout(): number | null {
    return this.#facts.handlerTimeout;
  }

  /** The whole response was handed to node:http2 (set by the write path). */
  #answered = false;

  /** The write path handed the whole response over: a later close is not the client leaving. */
  answered(): void {
    this.#answered = true;
  }

  /** Whether {@link answered} was called. */
  protected get isAnswered(): boolean {
    return this.#answered;
  }

  /** The connection's facts (the server's state, deadlines) for subclasses. */
  protected get facts(): H2ConnFacts {
    return this.#facts;
  }

  /**
   * The client is gone when the stream closes before the whole response was handed over: the
   * client reset it (RST_STREAM), or the connection under it closed or failed (TLS, PROXY, a TCP
   * reset, the drain deadline, which node:http2 reports with NO_ERROR, so the code cannot
   * tell); each stream only for itself. One 'close' listener, only for requests whose signal
   * was read.
   */
  protected override watchClient(abort: (reason: TakoError) => void): void {
    const stream = this.native;
    const gone = (): void => {
      if (!this.#answered)
        abort(goneReason(this.#facts.served, `the stream closed (HTTP/2 error code ${(stream as { rstCode?: number }).rstCode ?? "none"}) before the response was complete`));
    };
    if (stream.closed || stream.destroyed) return gone();
    stream.once("close", gone);
  }

  /**
   * Complete when the stream closes after the whole response was handed to node:http2;
   * abandoned when it closes before (a reset, the connection gone). The status is the one sent.
   */
  override watchResponse(done: (status: number, complete: boolean) => void): void {
    const stream = this.native;
    const end = (): void => {
      const sent = (stream as { sentHeaders?: Record<string, unknown> }).sentHeaders?.[":status"];
      done(typeof sent === "number" ? sent : Number(sent ?? 0) || 0, this.#answered);
    };
    if (stream.closed || stream.destroyed) return end();
    stream.once("close", end);
  }

  /** Completed responses pay back the connection's rapid-reset account. */
  completed(): void {
    this.#facts.resets.completed();
  }

  /** The client is still sending a body nobody read. */
  get bodyLeft(): boolean {
    return !this.#noBody && !this.native.readableEnded;
  }

  protected override readWhole<T>(limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T): Promise<T> {
    return collect(this.#noBody ? null : this.native, limit, deadline, finish);
  }

  protected override bodyDeadline(): BodyDeadline | null {
    return this.#facts.bodyDeadline;
  }

  /**
   * The stream's body chunks. A reader that stops early (a body over the limit, a handler that
   * breaks out of its loop) must not destroy the stream: that resets it (CANCEL) before the
   * response goes out, and the client never sees the 413. The rest of the body is read and
   * discarded instead (flow control keeps moving, nothing is buffered), and the stream ends
   * when the response has (RST_STREAM NO_ERROR if the client is still sending, RFC 9113 §8.1).
   */
  protected bodySource(): AsyncIterable<Uint8Array> | null {
    if (this.#noBody) return null;
    const stream = this.native;
    return {
      [Symbol.asyncIterator]() {
        const it = stream.iterator({ destroyOnReturn: false });
        return {
          next: () => it.next(),
          async return() {
            await it.return?.();
            if (!stream.readableEnded) stream.resume();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }
}
