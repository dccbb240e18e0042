import { type RequestMessage, requestChannel } from "./diagnostics.ts";

/** One line of the access log: a request whose response is complete or abandoned. */
export interface AccessLogEntry {
  /** When the request was dispatched (ms since the epoch). */
  readonly time: number;
  readonly method: string;
  /** The path, still percent-encoded, without the query. */
  readonly path: string;
  /** The matched route's pattern; `null` when no route matched. */
  readonly route: string | null;
  /** The status sent (`0` when the connection closed before any). */
  readonly status: number;
  /** Milliseconds from dispatch to the response's end. */
  readonly duration: number;
  /** The client (the PROXY header's source when the listener reads one). */
  readonly remoteAddress: string;
  /** `"1.1"` or `"2.0"`. */
  readonly httpVersion: string;
  /** `req.id` (the `requestId()` middleware), `null` without it. */
  readonly requestId: string | null;
  /** The client left before the response was complete. */
  readonly clientLeft: boolean;
}

/**
 * Calls `sink` once per request every tako server in this process serves, when its response is
 * complete (the last byte handed to the runtime) or abandoned, with the status actually sent:
 * built on the `tako:request` diagnostics channel, so it costs nothing when not installed, and
 * no logger is bundled (format and write the entry yourself). A sink that throws is ignored.
 * Returns a function that removes it.
 *
 * ```ts
 * accessLog((e) => console.log(`${e.remoteAddress} ${e.method} ${e.path} ${e.status} ${e.duration.toFixed(1)}ms ${e.requestId ?? "-"}`));
 * ```
 */
export function accessLog(sink: (entry: AccessLogEntry) => void): () => void {
  const noop = (): void => {};
  const onEnd = (raw: unknown): void => {
    const m = raw as RequestMessage;
    const entry: AccessLogEntry = {
      time: performance.timeOrigin + m.startTime,
      method: m.method,
      path: m.path,
      route: m.route,
      status: m.status,
      duration: m.duration,
      remoteAddress: m.remoteAddress,
      httpVersion: m.httpVersion,
      requestId: m.req.id,
      clientLeft: m.clientLeft,
    };
    try {
      sink(entry);
    } catch {
      // A failing sink must not break the server.
    }
  };
  // Subscribing to `start` is what turns tracing on for each request.
  requestChannel.start.subscribe(noop);
  requestChannel.asyncEnd.subscribe(onEnd);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    requestChannel.start.unsubscribe(noop);
    requestChannel.asyncEnd.unsubscribe(onEnd);
  };
}
