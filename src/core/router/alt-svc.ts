import { TakoError } from "../errors.ts";
import { type HandlerResult, toReply } from "../responder.ts";
import { Reply } from "../response.ts";
import type { AnyRequest, Dispatcher } from "./types.ts";
import { WrappingDispatcher } from "./wrapper.ts";

/**
 * Checks an `Alt-Svc` field value (RFC 7838 §3): visible ASCII and spaces, no control
 * characters (so no header injection), at most 1,024 characters. The syntax inside (protocol
 * ids, `ma`, `persist`) is the user's; `clear` is allowed.
 */
export function checkAltSvc(value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 1024 || !/^[\x20-\x7e]+$/.test(value) || value.trim() !== value) {
    throw new TakoError("TAKO_ERR_CONFIG", `altSvc must be an Alt-Svc field value such as 'h3=":443"; ma=86400' (visible ASCII, 1..1024 characters); got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A dispatcher that adds `Alt-Svc: value` to every response of `inner` (RFC 7838): how an
 * HTTP/1.1 or HTTP/2 server tells clients that the same origin is also served over HTTP/3. Only
 * wrapped around a router when an alternative service is advertised, so it costs nothing
 * otherwise; when it is, one header per response: a `Reply` or `Response` gets it in place (a
 * `Reply`'s header object is copied, being the handler's own), any other result is turned into
 * the `Reply` it would have become anyway.
 */
export class AltSvcDispatcher extends WrappingDispatcher {
  readonly #value: string;
  readonly #add = (value: HandlerResult): HandlerResult => this.#with(value);

  constructor(inner: Dispatcher, value: string) {
    super(inner);
    this.#value = value;
  }

  dispatch(req: AnyRequest): HandlerResult | Promise<HandlerResult> {
    const result = this.inner.dispatch(req);
    return result instanceof Promise ? result.then(this.#add) : this.#with(result);
  }

  override recover(error: unknown, req: AnyRequest): HandlerResult {
    return this.#with(this.inner.recover(error, req));
  }

  #with(value: HandlerResult): HandlerResult {
    try {
      if (value instanceof Response) {
        try {
          value.headers.set("alt-svc", this.#value);
          return value;
        } catch {
          // Immutable headers (Response.redirect, a fetched response): copy them.
          const headers = new Headers(value.headers);
          headers.set("alt-svc", this.#value);
          return new Response(value.body, { status: value.status, statusText: value.statusText, headers });
        }
      }
      const reply = toReply(value);
      if (reply instanceof Response) return this.#with(reply);
      return new Reply(reply.body, reply.status, { ...reply.headers, "alt-svc": this.#value });
    } catch {
      // Not serialisable: left to the engine, which answers the error (without Alt-Svc).
      return value;
    }
  }
}
