import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { ConnInfo } from "../../core/conn-info.ts";
import { connInfoOf } from "./conn.ts";
import { proxiedHeader, proxiedHeaders } from "../shared/proxied-headers.ts";
import { proxyOf } from "./proxy-transport.ts";
import { BodyClock, type BodyDeadline, bodyAborted, settledWith, tooLarge } from "../../core/body.ts";
import { clientGone, drainDeadline, type TakoError } from "../../core/errors.ts";
import type { ServerConfig } from "../../core/config.ts";
import { errorReply } from "../../core/responder.ts";
import type { Reply } from "../../core/response.ts";
import { absoluteAuthority, absoluteFormProblem, HEAD_PROBLEMS, isChunkedOnly, isValidHost, originForm, refuseHead } from "../../core/request-rules.ts";
import { TakoRequest } from "../../core/request.ts";

/**
 * Buffers a Node readable body (an `IncomingMessage` or an HTTP/2 stream) and settles with
 * `finish` of its bytes, rejecting with 413 past `limit` and with the 408 once `deadline` passes
 * (`null`: none) while the body is still coming. One promise from the last chunk to the reader.
 * Four listeners, never removed (they go with the request): adding and removing listeners per
 * request costs more than the reading itself on small bodies. An aborted upload surfaces as
 * 'aborted' or 'error' (ECONNRESET, stream reset) and becomes a 400.
 */
export function collect<T>(body: Readable | null, limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T): Promise<T> {
  if (body === null) return settledWith(finish, Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    let done = false;
    const fail = (error: unknown): void => {
      if (done) return;
      done = true;
      clock?.stop();
      reject(error);
    };
    const clock = deadline === null ? null : new BodyClock(deadline, fail);
    clock?.wait();
    body.on("data", (chunk: Buffer) => {
      if (done) return;
      clock?.got(chunk.length);
      size += chunk.length;
      if (size > limit) {
        body.pause();
        return fail(tooLarge(limit));
      }
      if (first === null) first = chunk;
      else (chunks ??= [first]).push(chunk);
    });
    body.on("end", () => {
      if (done) return;
      done = true;
      clock?.stop();
      try {
        resolve(finish(chunks !== null ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0))));
      } catch (error) {
        reject(error);
      }
    });
    body.on("error", (error: Error) => fail(bodyAborted(error)));
    // An HTTP/2 stream the client reset with CANCEL emits 'aborted', then 'end' as if the body
    // were complete, and no 'error' (measured, Node 20): without this the handler would get the
    // truncated body.
    body.on("aborted", () => fail(bodyAborted(new Error("the client reset the request before the end of its body"))));
  });
}

/**
 * The chunks of a request body, for streamed reads (`req.body`). A reader that stops early (a
 * body stream past the limit, a handler that breaks out of its loop or cancels the stream)
 * must not destroy the request: destroying an unfinished request destroys its socket at once,
 * before the response is written (Node, Bun and Deno alike). It is resumed instead, so the rest
 * of the body is read and discarded: on a kept-alive connection as node:http does for a body
 * nobody read, and within the bounds of the lingering close (http1.ts) when the response ends
 * the connection.
 *
 * A generator over the request, not an `IncomingMessage` subclass given to node:http that
 * overrides `Symbol.asyncIterator`: V8 (Node 20) never optimized that subclass's constructor. It
 * re-queued the compile on every request and dropped it ("Bailed out due to dependency
 * change", `--trace-opt`: ~1,300 aborted compiles in 18 s of load), which cost every request,
 * body or not, about 6% of the throughput of each bench route (measured against raw node:http).
 */
async function* bodyChunks(req: IncomingMessage): AsyncGenerator<Uint8Array> {
  try {
    yield* req.iterator({ destroyOnReturn: false });
  } finally {
    if (!req.complete) req.resume();
  }
}

/**
 * The HTTP/1.1 head rules (core/request-rules.ts) that node:http leaves to the server, checked
 * before routing; the refusal to send instead of dispatching, or `null`. llhttp, and the
 * node:http of Bun and Deno on their node:net path, take `HTTP/2.0` in a request line, a
 * duplicate or malformed Host, and `Transfer-Encoding: identity, chunked` (decoded as chunked);
 * Bun's also takes an HTTP/1.1 request without Host (all measured).
 *
 * Hot path, for a valid request: one pass over the raw header lines, one length compare per
 * line (a second look only at 4- and 17-letter names). `req.headers` is never touched: node:http
 * builds that object lazily, and building it for every request cost more than the whole check
 * (measured: GET / fell from 0.91× to 0.75× of raw node:http). The Host value is compared with
 * the last valid one (one string compare while a client keeps sending the same Host); one char
 * compare on the target. The rest runs only for a request about to be refused, or an
 * absolute-form target.
 */
export function refusedHead(req: IncomingMessage): Reply | null {
  if (req.httpVersionMajor !== 1) return errorReply(refuseHead(505, HEAD_PROBLEMS.version));
  const raw = req.rawHeaders;
  let host: string | undefined;
  let hosts = 0;
  let te: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4) {
      if (name === "Host" || name === "host" || name.toLowerCase() === "host") {
        host = raw[i + 1]!;
        hosts++;
      }
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
      // Several lines are one list (RFC 9110 §5.3), as node:http joins them.
      te = te === undefined ? raw[i + 1]! : `${te}, ${raw[i + 1]!}`;
    }
  }
  if (host === undefined) {
    if (req.httpVersionMinor !== 0) return errorReply(refuseHead(400, HEAD_PROBLEMS.missingHost));
  } else {
    if (hosts > 1) return errorReply(refuseHead(400, HEAD_PROBLEMS.duplicateHost));
    if (!isValidHost(host)) return errorReply(refuseHead(400, HEAD_PROBLEMS.invalidHost));
  }
  if (te !== undefined && !isChunkedOnly(te)) return errorReply(refuseHead(400, HEAD_PROBLEMS.transferEncoding));
  const url = req.url!;
  if (url.charCodeAt(0) !== 47 && absoluteAuthority(url) !== null) {
    const problem = absoluteFormProblem(url);
    if (problem !== null) return errorReply(refuseHead(400, problem));
  }
  return null;
}

/** What a server's requests read of it while they run. */
export interface ServedState {
  /** Set at the drain deadline, before its connections are destroyed: `req.signal` then says so. */
  forced: boolean;
}

/** A new {@link ServedState}. */
export const servedState = (): ServedState => ({ forced: false });

/** Why a request of a server whose connection closed under it was given up. */
export const goneReason = (state: ServedState, detail?: string): TakoError => (state.forced ? drainDeadline() : clientGone(detail));

/**
 * {@link NodeRequest} for one server: its body deadline, handler timeout and state answered by
 * the class, so requests carry nothing for them.
 */
export function nodeRequestClass(deadline: BodyDeadline | null, config: Pick<ServerConfig, "handlerTimeout">, state: ServedState): typeof NodeRequest {
  const timeout = config.handlerTimeout;
  return class extends NodeRequest {
    protected override bodyDeadline(): BodyDeadline | null {
      return deadline;
    }
    override handlerTimeout(): number | null {
      return timeout;
    }
    protected override goneReason(): TakoError {
      return goneReason(state);
    }
  };
}

/**
 * The request view over `IncomingMessage`: method and target are read straight from it; the
 * Fetch `Headers` and the connection facts are built only when a handler touches them.
 */
export class NodeRequest extends TakoRequest {
  readonly native: IncomingMessage;
  /** The response to this request (`null` when there is none to watch). */
  readonly response: ServerResponse | null;
  #headers: Headers | null = null;
  #conn: ConnInfo | null = null;

  constructor(native: IncomingMessage, response: ServerResponse | null = null) {
    super();
    this.native = native;
    this.response = response;
  }

  /** The reason `req.signal` aborts with when the connection closes under this request. */
  protected goneReason(): TakoError {
    return clientGone();
  }

  /**
   * The client is gone when the response closes before it finished (node:http closes it with
   * its socket; the same on Bun's and Deno's node:http, measured), also if that happened before
   * the handler asked. One 'close' listener, only for requests whose signal was read.
   */
  protected override watchClient(abort: (reason: TakoError) => void): void {
    const res = this.response;
    if (res === null || res.writableFinished) return;
    if (res.destroyed) return abort(this.goneReason());
    res.once("close", () => {
      if (!res.writableFinished) abort(this.goneReason());
    });
  }

  /**
   * Complete at the response's 'finish' (its last byte handed to the socket); abandoned when it
   * closes first (status `0` when its head had not gone out).
   */
  override watchResponse(done: (status: number, complete: boolean) => void): void {
    const res = this.response;
    if (res === null) return;
    res.once("finish", () => done(res.statusCode, true));
    res.once("close", () => done(res.headersSent ? res.statusCode : 0, res.writableFinished));
  }

  get method(): string {
    return this.native.method!;
  }

  get target(): string {
    const url = this.native.url!;
    // Origin-form ("/path") is the common case: one char compare, no copy.
    return url.charCodeAt(0) === 47 ? url : originForm(url);
  }

  /**
   * The authority of an absolute-form target, which replaces the Host header (RFC 9112 §3.2.2;
   * see core/request-rules.ts); `null` for an origin-form target.
   */
  #targetAuthority(): string | null {
    const url = this.native.url!;
    return url.charCodeAt(0) === 47 ? null : absoluteAuthority(url);
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
      const authority = this.#targetAuthority();
      if (authority !== null) h.set("host", authority);
      const proxy = proxyOf(this.native.socket);
      this.#headers = proxy === null ? h : proxiedHeaders(h, proxy);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const c = key.charCodeAt(0);
    if (c === 104 && key === "host") {
      const authority = this.#targetAuthority();
      if (authority !== null) return authority;
    } else if (c === 102 || c === 120) {
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
  protected override readWhole<T>(limit: number, deadline: BodyDeadline | null, finish: (bytes: Uint8Array) => T): Promise<T> {
    return collect(this.#hasBody() ? this.native : null, limit, deadline, finish);
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    return this.#hasBody() ? bodyChunks(this.native) : null;
  }

  #hasBody(): boolean {
    const h = this.native.headers;
    return h["transfer-encoding"] !== undefined || (h["content-length"] !== undefined && h["content-length"] !== "0");
  }
}
