import type { Serving } from "../engine.ts";

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
}

/**
 * The lifecycle kernel, written once for every engine: accept → track → drain → force-close.
 *
 * - `admit`/`release` track connections from accept to close, under the connection cap.
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
  readonly #conns = new Set<C>();
  #listening = true;
  #draining = false;
  #forced = false;
  #done = false;
  #stepping = false;

  constructor() {
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

  /** Tracks an accepted connection; `false` (not tracked) when it is over the cap: the engine refuses it. */
  admit(conn: C): boolean {
    if (this.#cap !== null && this.#conns.size >= this.#cap) return false;
    this.#conns.add(conn);
    return true;
  }

  /** A tracked connection is gone (closed, reset or destroyed). */
  release(conn: C): void {
    if (this.#conns.delete(conn)) this.#settle();
  }

  /** Calls `fn` with every tracked connection. */
  forEach(fn: (conn: C) => void): void {
    for (const conn of this.#conns) fn(conn);
  }

  /** The listener has stopped: no connection will be admitted any more. */
  listenerClosed(): void {
    this.#listening = false;
    this.#settle();
  }

  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    if (this.#hooks !== null) this.#drain(this.#hooks);
  }

  forceClose(): void {
    if (this.#forced) return;
    this.#forced = true;
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
    this.#resolveClosed();
  }
}
