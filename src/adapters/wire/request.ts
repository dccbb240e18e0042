/**
 * `adapters/wire/`: the runtime-neutral half of tako's raw-socket servers, shared by the Bun
 * engine (`Bun.listen`) and the Deno engine (`Deno.listen`, `Deno.listenTls`): the request base
 * and its body pipe, and HTTP/2 on tako's codec (connection, request, send path), written
 * against a small socket interface (`H2Socket`) each runtime implements.
 */

import type { BodyDeadline } from "../../core/body.ts";
import type { ConnInfo } from "../../core/conn-info.ts";
import type { TakoError } from "../../core/errors.ts";
import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";
import { TakoRequest } from "../../core/request.ts";
import { proxiedHeader, proxiedHeaders } from "../shared/proxied-headers.ts";
import type { BodyPipe } from "./body-pipe.ts";

const NO_BYTES = new Uint8Array(0);

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
 * What a request read by one of tako's codecs on a raw socket (HTTP/1.1 or HTTP/2) shares: the
 * body from its {@link BodyPipe}, the deadlines of its host, and the response's progress, which
 * the connection marks (`headSent`, `finished`) and ends with {@link completed} or {@link gone}.
 */
export abstract class WireRequest extends TakoRequest {
  readonly host: RequestHost;
  /** The body, `null` when there is none (set once, while the request is made). */
  pipe: BodyPipe | null;
  /** The response head went out (its status can no longer change). */
  headSent = false;
  /** The response is complete (handed to the socket or the codec), or abandoned. */
  finished = false;
  /** The status sent (0: none yet). */
  status = 0;
  /** A streamed response's source: cancelled when the client goes first. */
  cancelSource: (() => void) | null = null;
  #abort: ((reason: TakoError) => void) | null = null;
  #traced: ((status: number, complete: boolean) => void) | null = null;

  constructor(host: RequestHost, pipe: BodyPipe | null) {
    super();
    this.host = host;
    this.pipe = pipe;
  }

  get conn(): ConnInfo {
    return this.host.connInfo();
  }

  /**
   * What the connection's PROXY header makes of header `key` (lower case): tako's `Forwarded`,
   * `null` for a dropped `X-Forwarded-*`, `undefined` when the request's own fields decide.
   */
  protected proxied(key: string): string | null | undefined {
    const proxy = this.host.proxyHeader;
    return proxy === null ? undefined : proxiedHeader(key, proxy);
  }

  /** `headers` as handlers see them: with a PROXY header, its `Forwarded` and no `X-Forwarded-*`. */
  protected withProxy(headers: Headers): Headers {
    const proxy = this.host.proxyHeader;
    return proxy === null ? headers : proxiedHeaders(headers, proxy);
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

  protected override readWhole<T>(limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T, keeps: boolean): Promise<T> {
    const pipe = this.pipe;
    return pipe === null ? Promise.resolve(finish(NO_BYTES)) : pipe.collect(limit, deadline, finish, keeps);
  }

  /** The client is gone when its connection (or stream) ends before the response is complete. */
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

  /** The connection closed (or the stream was reset) before the response was complete; `why` fails the body. */
  protected giveUp(why: string): void {
    this.pipe?.fail(new Error(why));
    this.cancelSource?.();
    if (this.finished) return;
    this.finished = true;
    const abort = this.#abort;
    this.#abort = null;
    abort?.(this.host.goneReason());
    this.#traced?.(this.headSent ? this.status : 0, false);
  }
}
