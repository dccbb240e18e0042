import type { Http1RequestHead } from "../../core/http1/parser.ts";
import { absoluteAuthority, originForm } from "../../core/request-rules.ts";
import type { BodyPipe } from "./body-pipe.ts";
import { WireRequest, type RequestHost } from "./request.ts";

/**
 * A request read by tako's HTTP/1.1 codec on a raw socket (`Bun.listen`, `Deno.listen`): method, target and headers straight
 * from the parsed head (the Fetch `Headers` built only when a handler asks), the body from its
 * {@link BodyPipe}. The connection marks the response's progress on it (`headSent`,
 * `finished`) and calls {@link gone} when it closes first.
 */
export class H1Request extends WireRequest {
  readonly head: Http1RequestHead;
  #headers: Headers | null = null;

  constructor(head: Http1RequestHead, host: RequestHost, pipe: BodyPipe | null) {
    super(host, pipe);
    this.head = head;
  }

  get method(): string {
    return this.head.method;
  }

  get target(): string {
    const t = this.head.target;
    // Origin-form ("/path") is the common case: one char compare, no copy.
    return t.charCodeAt(0) === 47 ? t : originForm(t);
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
      this.#headers = this.withProxy(h);
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const key = name.toLowerCase();
    const own = this.proxied(key);
    if (own !== undefined) return own;
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

  /** The connection closed before the response was complete. */
  gone(): void {
    this.giveUp("the client closed the connection before the end of the body");
  }
}
