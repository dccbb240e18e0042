import type { Serving } from "../engine.ts";
import { connectionClose, connectionOpen, connectionRefused, drainEnd, drainStart, type Peer, publishConnection } from "./diagnostics.ts";

/** What an engine does at each step of the lifecycle, with its runtime's primitives. */
export interface LifecycleHooks {
  /** Stop accepting: the listening socket closes (or the native server stops), new connects are refused. */
  stopAccepting(): void;
  /** The protocol's graceful drain of live connections (`Connection: close`, GOAWAY …). */
  drainConnections(): void;
  /** Destroys every live connection now. */
  destroyConnections(): void;
  /** Releases timers and native servers once the listener is closed and the last connection is gone. */
  released?(): void;
  /**
   * True when `conn` has no request in flight: its next (or first) request head is not complete
   * yet, or it waits between keep-alive requests. With {@link shed}, lets the kernel make room
   * at the cap.
   */
  idle?(conn: unknown): boolean;
  /**
   * Closes an idle connection now, to make room at the cap (descriptor exhaustion). It is no
   * longer tracked when this is called. Without `idle` and `shed`, connections over the cap
   * are refused and nothing is shed.
   */
  shed?(conn: unknown): void;
  /** The TCP peer of `conn`, for the connection diagnostics channels (asked only while someone subscribes). */
  peer?(conn: unknown): Peer | null;
}

/** Only a connection at least this old (from accept) may be shed: a new one gets time to send its request. */
export const SHED_MIN_AGE = 1_000;

/**
 * The lifecycle kernel, written once for every engine: accept → track → drain → force-close.
 *
 * - `admit`/`release` track connections from accept to close, under the connection cap. At
 *   the cap, the oldest idle connection (accepted at least {@link SHED_MIN_AGE} ago, with no
 *   request in flight: a stalled head or a kept-alive connection between requests) is shed to
 *   admit the new one; only when there is none is the new one refused. So idle and stalled
 *   connections cannot lock honest clients out (descriptor exhaustion).
 * - `drain()` and `forceClose()` are idempotent and may come before the engine has started its
 *   transport (`start`), e.g. while Bun or Deno move a listener to another server: the steps
 *   already asked for are replayed when it starts.
 * - `closed` resolves once the listener is closed (`listenerClosed`) and no tracked connection
 *   is left. Engines whose native server tracks connections itself track none here and report
 *   `listenerClosed` when that server has finished.
 *
 * No clock and no I/O: the hooks do the work, so the kernel is tested with a fake engine.
 */
export class Lifecycle<C = unknown> implements Serving {
  readonly closed: Promise<void>;
  readonly ready: Promise<void>;
  #resolveClosed!: () => void;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #hooks: LifecycleHooks | null = null;
  #cap: number | null = null;
  /** Tracked connections with their accept time, the oldest first (insertion order). */
  readonly #conns = new Map<C, number>();
  readonly #now: () => number;
  #listening = true;
  #draining = false;
  #forced = false;
  #done = false;
  #stepping = false;

  /** `now`: the clock for connection ages (tests pass a fake one). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // a failed start is reported to whoever awaits ready()
  }

  /** Connections tracked now. */
  get size(): number {
    return this.#conns.size;
  }

  /** True once `drain()` or `forceClose()` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * The engine's transport is up: `hooks` take over and `cap` (`maxConnections`) applies to
   * later `admit`s. A drain or force-close asked for earlier runs now.
   */
  start(hooks: LifecycleHooks, cap: number | null = null): void {
    if (this.#hooks !== null) throw new Error("lifecycle already started");
    this.#hooks = hooks;
    this.#cap = cap;
    this.#resolveReady();
    if (this.#forced) this.#force(hooks);
    else if (this.#draining) this.#drain(hooks);
    this.#settle();
  }

  /** The transport could not start (e.g. the port was taken while moving servers): `ready` rejects, `closed` resolves. */
  fail(error: unknown): void {
    this.#rejectReady(error);
    this.#listening = false;
    this.#conns.clear();
    this.#finish();
  }

  /** The connection cap in force (`null`: none). */
  get cap(): number | null {
    return this.#cap;
  }

  /**
   * Tracks an accepted connection. At the cap, the oldest idle connection is shed to make room
   * (see {@link LifecycleHooks.shed}); `false` (not tracked) when none can be: the engine
   * refuses the new one.
   */
  admit(conn: C): boolean {
    const now = this.#now();
    if (this.#cap !== null && this.#conns.size >= this.#cap && !this.#shedOne(now)) {
      if (connectionRefused.hasSubscribers) publishConnection(connectionRefused, conn, this.#peer(conn), "cap");
      return false;
    }
    this.#conns.set(conn, now);
    if (connectionOpen.hasSubscribers) publishConnection(connectionOpen, conn, this.#peer(conn), "accepted");
    return true;
  }

  #peer(conn: unknown): Peer | null {
    return this.#hooks?.peer?.(conn) ?? null;
  }

  /** Sheds the oldest idle connection old enough; `false` when there is none. */
  #shedOne(now: number): boolean {
    const hooks = this.#hooks;
    if (hooks?.idle === undefined || hooks.shed === undefined) return false;
    for (const [conn, since] of this.#conns) {
      if (now - since < SHED_MIN_AGE) return false; // the rest are younger still
      if (!hooks.idle(conn)) continue;
      this.#conns.delete(conn);
      if (connectionClose.hasSubscribers) publishConnection(connectionClose, conn, this.#peer(conn), "shed");
      hooks.shed(conn);
      return true;
    }
    return false;
  }

  /** A tracked connection is gone (closed, reset or destroyed). */
  release(conn: C): void {
    if (!this.#conns.delete(conn)) return;
    if (connectionClose.hasSubscribers) publishConnection(connectionClose, conn, this.#peer(conn), "closed");
    this.#settle();
  }

  /** Calls `fn` with every tracked connection. */
  forEach(fn: (conn: C) => void): void {
    for (const conn of this.#conns.keys()) fn(conn);
  }

  /** The listener has stopped: no connection will be admitted any more. */
  listenerClosed(): void {
    this.#listening = false;
    this.#settle();
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    if (drainStart.hasSubscribers) drainStart.publish({ server: this, connections: this.#conns.size, forced: false });
    if (this.#hooks !== null) this.#drain(this.#hooks);
  }

  forceClose(): void {
    if (this.#forced) return;
    this.#forced = true;
    if (!this.#draining && drainStart.hasSubscribers) drainStart.publish({ server: this, connections: this.#conns.size, forced: true });
    this.#draining = true;
    if (this.#hooks !== null) this.#force(this.#hooks);
  }

  #drain(hooks: LifecycleHooks): void {
    this.#step(() => {
      hooks.stopAccepting();
      hooks.drainConnections();
    });
  }

  #force(hooks: LifecycleHooks): void {
    this.#step(() => {
      hooks.stopAccepting();
      hooks.destroyConnections();
    });
  }

  /** Runs hooks as one step: a listener that closes inside it does not release the transport mid-step. */
  #step(run: () => void): void {
    this.#stepping = true;
    try {
      run();
    } finally {
      this.#stepping = false;
    }
    this.#settle();
  }

  #settle(): void {
    if (!this.#stepping && !this.#listening && this.#conns.size === 0) this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#hooks?.released?.();
    if (this.#draining && drainEnd.hasSubscribers) drainEnd.publish({ server: this, connections: 0, forced: this.#forced });
    this.#resolveClosed();
  }
}
