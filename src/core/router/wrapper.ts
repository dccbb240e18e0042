import type { HandlerResult } from "../responder.ts";
import { respondFetch } from "./fetch.ts";
import type { AnyRequest, Dispatcher, FetchObserver } from "./types.ts";

/**
 * A dispatcher that wraps another one (load shedding, Alt-Svc): everything but `dispatch` goes to
 * `inner`, and `handleFetch` runs the Fetch path through this wrapper's own `dispatch`.
 */
export abstract class WrappingDispatcher implements Dispatcher {
  protected readonly inner: Dispatcher;

  constructor(inner: Dispatcher) {
    this.inner = inner;
  }

  abstract dispatch(req: AnyRequest): HandlerResult | Promise<HandlerResult>;

  handleFetch(req: AnyRequest, observer?: FetchObserver): Response | Promise<Response> {
    return respondFetch(this, req, observer);
  }

  recover(error: unknown, req: AnyRequest): HandlerResult {
    return this.inner.recover(error, req);
  }

  routeOf(req: AnyRequest): string | null {
    return this.inner.routeOf?.(req) ?? null;
  }

  serverDraining(): void {
    this.inner.serverDraining?.();
  }

  hasUpgrades(): boolean {
    return this.inner.hasUpgrades?.() === true;
  }

  shedExempt(req: AnyRequest): boolean {
    return this.inner.shedExempt?.(req) === true;
  }
}
