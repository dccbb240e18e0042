import type { Serving, SocketAddr } from "../adapters/engine.ts";

/**
 * A running server: stop it gracefully with `shutdown()`, or in two steps with `trigger()` and
 * `join()`. Every method is idempotent and safe to call concurrently. Supports `await using`.
 *
 * ```ts
 * await using handle = server.spawnHttp(listener, router);
 * // … on exit: graceful drain, bounded by drainTimeout
 * ```
 */
export class ServerHandle {
  readonly #serving: Serving;
  readonly #socket: { localAddr(): SocketAddr };
  readonly #drainTimeout: number;
  readonly #shutdownDelay: number;
  readonly #onTrigger: (() => void) | undefined;
  #triggered = false;
  /** When the drain starts (`trigger()` plus `shutdownDelay`); set by the first `trigger()`. */
  #drainAt = Infinity;
  #deadline = Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #delayTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @internal Created by `Server.spawn*`. `onTrigger`: told at the first `trigger()` (the
   * router's readiness fails from then on).
   */
  constructor(serving: Serving, socket: { localAddr(): SocketAddr }, drainTimeout: number, shutdownDelay = 0, onTrigger?: () => void) {
    this.#serving = serving;
    this.#socket = socket;
    this.#drainTimeout = drainTimeout;
    this.#shutdownDelay = shutdownDelay;
    this.#onTrigger = onTrigger;
    serving.closed.then(() => this.#clearTimer());
  }

  /** The configured drain budget in milliseconds. */
  get drainTimeout(): number {
    return this.#drainTimeout;
  }

  /** The address the server listens on. */
  localAddr(): SocketAddr {
    return this.#socket.localAddr();
  }

  /** True once the drain has started. */
  get draining(): boolean {
    return this.#triggered;
  }

  /**
   * Starts the shutdown without waiting. Readiness (`router.health()`) fails at once; the
   * server keeps serving for `shutdownDelay` (default 0), then drains: the listener stops
   * accepting, idle keep-alive connections close at once, in-flight requests finish (their
   * responses carry `Connection: close`), and whatever remains `drainTimeout` after the drain
   * began is destroyed.
   */
  trigger(): void {
    if (!this.#triggered) {
      this.#triggered = true;
      this.#onTrigger?.();
      this.#drainAt = Date.now() + this.#shutdownDelay;
      if (this.#shutdownDelay === 0) this.#serving.drain();
      else {
        this.#delayTimer = setTimeout(() => {
          this.#delayTimer = null;
          this.#serving.drain();
        }, this.#shutdownDelay);
      }
    }
    this.#cutAt(this.#drainTimeout);
  }

  /**
   * Resolves once the server accepts connections: at once, except on Bun and Deno while a
   * server moves to the node:net path (a few milliseconds, during which connects are refused).
   * Rejects if that move fails (e.g. the port was taken in between).
   */
  ready(): Promise<void> {
    return this.#serving.ready;
  }

  /** Resolves when the server has stopped: listener closed and every connection gone. */
  join(): Promise<void> {
    return this.#serving.closed;
  }

  /**
   * `trigger()` then `join()`, with the drain (after `shutdownDelay`) bounded by
   * `min(timeoutMs, drainTimeout)`. A second call with a shorter timeout shortens the deadline;
   * a longer one never extends it.
   */
  async shutdown(timeoutMs?: number): Promise<void> {
    if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs >= 0 && Number.isFinite(timeoutMs))) {
      throw new RangeError(`shutdown timeout must be a non-negative number of milliseconds, got ${String(timeoutMs)}`);
    }
    this.trigger();
    this.#cutAt(Math.min(timeoutMs ?? this.#drainTimeout, this.#drainTimeout));
    await this.join();
  }

  /** `await using` support: a graceful `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** Arms (or moves earlier) the force-close deadline `ms` from now, or from the drain's start if later. */
  #cutAt(ms: number): void {
    const at = Math.max(Date.now(), this.#drainAt) + ms;
    if (at >= this.#deadline) return;
    this.#deadline = at;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#serving.forceClose(), Math.max(0, at - Date.now()));
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#delayTimer !== null) clearTimeout(this.#delayTimer);
    this.#timer = this.#delayTimer = null;
  }
}
