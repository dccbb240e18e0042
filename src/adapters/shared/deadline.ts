import type { ServerConfig } from "../../core/config.ts";

/**
 * A connection's current deadline: one timer, re-armed for each phase of the connection (first
 * request head, idle between requests, PROXY header, protocol sniff …) and cleared when it
 * closes. `null` or `Infinity` means no deadline.
 */
export class Deadline {
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** Calls `onFire` after `ms`, replacing the deadline armed before. */
  arm(ms: number | null, onFire: () => void): void {
    this.clear();
    if (ms !== null && ms !== Infinity) this.#timer = setTimeout(onFire, ms);
  }

  clear(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** True while a deadline is armed and has not fired. */
  get armed(): boolean {
    return this.#timer !== null;
  }
}

/** The HTTP/1.1 deadlines of a connection, for whichever mechanism enforces them. */
export interface Http1Deadlines {
  /** A new connection must complete its first request head in time, else 408 and close. */
  readonly firstHead: number | null;
  /** After its last response a connection must complete its next head in time, else it is closed. */
  readonly nextHead: number | null;
}

/**
 * HTTP/1.1 deadlines from `config`, decided once: `headerReadTimeout` for the first head;
 * `min(keepAliveTimeout, headerReadTimeout)` between requests (an idle keep-alive connection
 * and a trickled next head are both bounded).
 */
export function http1Deadlines(config: ServerConfig): Http1Deadlines {
  const between = Math.min(config.keepAliveTimeout ?? Infinity, config.headerReadTimeout ?? Infinity);
  return { firstHead: config.headerReadTimeout, nextHead: between === Infinity ? null : between };
}
