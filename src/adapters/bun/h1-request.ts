import type { BodyClock, BodyDeadline } from "../../core/body.ts";
import type { ConnInfo } from "../../core/conn-info.ts";
import type { TakoError } from "../../core/errors.ts";
import type { Http1RequestHead } from "../../core/http1/parser.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { absoluteAuthority, originForm } from "../../core/request-rules.ts";
import { TakoRequest } from "../../core/request.ts";
import { proxiedHeader, proxiedHeaders } from "../shared/proxied-headers.ts";
import type { BodyPipe } from "./h1-body.ts";

/** What a request reads of its connection and server. */
export interface RequestHost {
  /** `req.conn`, made once per connection. */
  connInfo(): ConnInfo;
  /** The PROXY header the connection opened with: `Forwarded` is tako's then, and `X-Forwarded-*` are dropped. */
  readonly proxyHeader: ProxyHeader | null;
  readonly bodyDeadline: BodyDeadline | null;
  readonly handlerTimeout: number | null;
  /** Why a request whose connection closed under it was given up (client gone, or the drain deadline). */
  goneReason(): TakoError;
}

/**
 * A request read by tako's HTTP/1.1 codec on `Bun.listen`: method, target and headers straight
 * from the parsed head (the Fetch `Headers` built only when a handler asks), the body from its
 * {@link BodyPipe}. The connection marks the response's progress on it (`headSent`,
 * `finished`) and calls {@link gone} when it closes first.
 */
export class BunH1Request extends TakoRequest {
  readonly head: Http1RequestHead;
  readonly host: RequestHost;
  /** The body, `null` when the head announces none. */
  readonly pipe: BodyPipe | null;
  /** The response head went out (its status can no longer change). */
  headSent = false;
  /** The response is complete (its last byte handed to the socket), or abandoned. */
  finished = false;
  /** The status sent (0: none yet). */
  status = 0;
  /** A streamed response's source: cancelled when the connection closes first. */
  cancelSource: (() => void) | null = null;
  #abort: ((reason: TakoError) => void) | null = null;
  #traced: ((status: number, complete: boolean) => void) | null = null;
  #headers: Headers | null = null;

  constructor(head: Http1RequestHead, host: RequestHost, pipe: BodyPipe | null) {
    super();
    this.head = head;
    this.host = host;
    this.pipe = pipe;
  }

  get method(): string {
    return this.head.method;
  }

  get target(): string {
    const t = this.head.target;
    // Origin-form ("/path") is the common case: one char compare, no copy.
    return t.charCodeAt(0) === 47 ? t : originForm(t);
  }

  get conn(): ConnInfo {
    return this.host.connInfo();
  }

  /** The authority of an absolute-form target, which replaces Host (RFC 9112 §3.2.2); `null` otherwise. */
  #authority(): string | null {
    const t = this.head.target;
    return t.charCodeAt(0) === 47 ? null : absoluteAuthority(t);
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      const raw = this.head.headers;
      for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
      const authority = this.#authority();
      if (authority !== null) h.set("host", authority);
      const proxy = this.host.proxyHeader;
      this.#headers = proxy === null ? h : proxiedHeaders(h, proxy);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const proxy = this.host.proxyHeader;
    if (proxy !== null) {
      const own = proxiedHeader(key, proxy);
      if (own !== undefined) return own;
    }
    if (key === "host") {
      const authority = this.#authority();
      if (authority !== null) return authority;
    }
    const raw = this.head.headers;
    const n = key.length;
    let value: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.length !== n || (k !== key && k.toLowerCase() !== key)) continue;
      value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
    }
    return value;
  }

  protected override bodyDeadline(): BodyDeadline | null {
    return this.host.bodyDeadline;
  }

  override handlerTimeout(): number | null {
    return this.host.handlerTimeout;
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    return this.pipe;
  }

  protected override readBody(limit: number): Promise<Uint8Array> {
    const pipe = this.pipe;
    return pipe === null ? Promise.resolve(new Uint8Array(0)) : pipe.collect(limit, this.bodyClock as BodyClock | null);
  }

  /** The client is gone when the connection closes before the response is complete. */
  protected override watchClient(abort: (reason: TakoError) => void): void {
    if (this.finished) return;
    this.#abort = abort;
  }

  override watchResponse(done: (status: number, complete: boolean) => void): void {
    this.#traced = done;
  }

  /** The connection: the response is complete. */
  completed(): void {
    if (this.finished) return;
    this.finished = true;
    this.#abort = null;
    this.#traced?.(this.status, true);
  }

  /** The connection closed before the response was complete. */
  gone(): void {
    this.pipe?.fail(new Error("the client closed the connection before the end of the body"));
    this.cancelSource?.();
    if (this.finished) return;
    this.finished = true;
    const abort = this.#abort;
    this.#abort = null;
    abort?.(this.host.goneReason());
    this.#traced?.(this.headSent ? this.status : 0, false);
  }
}
