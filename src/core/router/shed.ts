import type { HandlerResult } from "../responder.ts";
import { Reply } from "../response.ts";
import type { AnyRequest, Dispatcher } from "./types.ts";
import { WrappingDispatcher } from "./wrapper.ts";

/** What an overloaded server answers instead of running the request (`maxEventLoopDelay`, `maxEventLoopUtilization`). */
const OVERLOADED_HEADERS = Object.freeze({ "content-type": "text/plain; charset=utf-8", "retry-after": "1", "cache-control": "no-store" });

/** Whether the process is overloaded now; read once per request, so it must be cheap (a field read). */
export interface LoadGauge {
  readonly overloaded: boolean;
}

/**
 * A dispatcher that answers 503 with `Retry-After: 1` before any route or middleware runs while
 * `gauge` says the process is overloaded; the paths `router.health()` registered are always
 * served (an orchestrator must not restart a process for being busy). Otherwise it is `inner`.
 * Only wrapped around a router when load shedding is configured, so it costs nothing otherwise.
 */
export class SheddingDispatcher extends WrappingDispatcher {
  readonly #gauge: LoadGauge;

  constructor(inner: Dispatcher, gauge: LoadGauge) {
    super(inner);
    this.#gauge = gauge;
  }

  dispatch(req: AnyRequest): HandlerResult | Promise<HandlerResult> {
    if (this.#gauge.overloaded && this.inner.shedExempt?.(req) !== true) {
      return new Reply("Service Unavailable: the server is overloaded\n", 503, OVERLOADED_HEADERS);
    }
    return this.inner.dispatch(req);
  }
}
