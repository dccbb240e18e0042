import type { ServerHandle } from "./handle.ts";
import { loadEngine } from "./select-engine.ts";

/** Options of {@link shutdownOnSignals}. */
export interface SignalOptions {
  /** Signals that start the drain. Default `["SIGINT", "SIGTERM"]`. */
  signals?: readonly string[];
  /** Drain budget passed to `shutdown()`; default the handle's `drainTimeout`. */
  timeoutMs?: number;
}

/**
 * Wires SIGINT/SIGTERM to a graceful `handle.shutdown()` on Node.js, Bun and Deno. The first
 * signal starts the drain; the hooks are removed once the server has stopped. Resolves to a
 * function that removes the hooks earlier.
 */
export async function shutdownOnSignals(handle: ServerHandle, options: SignalOptions = {}): Promise<() => void> {
  const engine = await loadEngine();
  const remove = engine.onSignals(options.signals ?? ["SIGINT", "SIGTERM"], () => {
    handle.shutdown(options.timeoutMs).catch(() => {});
  });
  handle.join().then(remove, remove);
  return remove;
}
