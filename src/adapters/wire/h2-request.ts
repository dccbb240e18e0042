import type { H2RequestHead } from "../../core/http2/index.ts";
import { type BodyOwner, BodyPipe } from "./body-pipe.ts";
import { WireRequest, type RequestHost } from "./request.ts";

/** What a stream's request asks of its HTTP/2 connection beyond {@link RequestHost}. */
export interface H2StreamHost extends RequestHost {
  /** `n` body octets of `streamId` were taken or dropped: their window goes back to the peer. */
  consume(streamId: number, n: number): void;
}

/**
 * A request read by tako's HTTP/2 codec (`core/http2/`) on a raw socket: method and target from
 * the pseudo-headers, `Host` from `:authority` when the client sent none, cookie crumbs joined
 * with `"; "` (RFC 9113 §8.2.3), the Fetch `Headers` built only when a handler asks. The body
 * streams through a {@link BodyPipe} whose reads return flow-control window to the peer, so an
 * upload nobody reads holds the client back. The connection marks the response's progress
 * (`headSent`, `finished`) and calls {@link gone} when the stream ends first.
 */
export class WireH2Request extends WireRequest implements BodyOwner {
  /** The HTTP/2 stream id. */
  readonly streamId: number;
  readonly head: H2RequestHead;
  declare readonly host: H2StreamHost;
  /** A streamed response waits for the stream's send queue to drain (`onDrain`). */
  #drained: (() => void) | null = null;
  #headers: Headers | null = null;

  constructor(id: number, head: H2RequestHead, host: H2StreamHost, hasBody: boolean) {
    super(host, null);
    this.streamId = id;
    this.head = head;
    if (hasBody) this.pipe = new BodyPipe(this);
  }

  get method(): string {
    return this.head.method;
  }

  get target(): string {
    return this.head.path;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      const raw = this.head.headers;
      let cookie: string | null = null;
      let host = false;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!;
        if (name === "cookie") cookie = cookie === null ? raw[i + 1]! : `${cookie}; ${raw[i + 1]!}`;
        else {
          if (name === "host") host = true;
          h.append(name, raw[i + 1]!);
        }
      }
      if (cookie !== null) h.set("cookie", cookie);
      if (!host && this.head.authority !== "") h.set("host", this.head.authority);
      this.#headers = this.withProxy(h);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const own = this.proxied(key);
    if (own !== undefined) return own;
    const raw = this.head.headers;
    const sep = key === "cookie" ? "; " : ", ";
    let value: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i] !== key) continue;
      value = value === null ? raw[i + 1]! : `${value}${sep}${raw[i + 1]!}`;
    }
    if (value === null && key === "host" && this.head.authority !== "") return this.head.authority;
    return value;
  }

  // ---- BodyOwner: HTTP/2 holds the peer back with its windows, not by pausing the socket.

  pauseReading(): void {}

  resumeReading(): void {}

  bodyWanted(): void {}

  consumed(n: number): void {
    this.host.consume(this.streamId, n);
  }

  /** Resolves once the stream's send queue has room again (or the stream is gone). */
  drained(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  /** The codec's `onDrain`. */
  wake(): void {
    const drained = this.#drained;
    this.#drained = null;
    drained?.();
  }

  /** The stream ended (reset, the connection closed) before the response was complete. */
  gone(): void {
    this.wake();
    this.giveUp("the client reset the stream before the end of the body");
  }
}
