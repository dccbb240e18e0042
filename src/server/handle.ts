import type { EngineListener, Serving, SocketAddr } from "../adapters/engine.ts";

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
  readonly #socket: EngineListener;
  readonly #drainTimeout: number;
  #triggered = false;
  #deadline = Infinity;
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** @internal Created by `Server.spawn*`. */
  constructor(serving: Serving, socket: EngineListener, drainTimeout: number) {
    this.#serving = serving;
    this.#socket = socket;
    this.#drainTimeout = drainTimeout;
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
   * Starts the graceful drain without waiting: the listener stops accepting at once, idle
   * keep-alive connections close at once, in-flight requests finish (their responses carry
   * `Connection: close`), and whatever remains at `drainTimeout` is destroyed.
   */
  trigger(): void {
    this.#cutAt(this.#drainTimeout);
    if (this.#triggered) return;
    this.#triggered = true;
    this.#serving.drain();
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
   * `trigger()` then `join()`, with the drain bounded by `min(timeoutMs, drainTimeout)`. A
   * second call with a shorter timeout shortens the deadline; a longer one never extends it.
   */
  async shutdown(timeoutMs?: number): Promise<void> {
    if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs >= 0 && Number.isFinite(timeoutMs))) {
      throw new RangeError(`shutdown timeout must be a non-negative number of milliseconds, got ${String(timeoutMs)}`);
    }
    this.#cutAt(Math.min(timeoutMs ?? this.#drainTimeout, this.#drainTimeout));
    this.trigger();
    await this.join();
  }

  /** `await using` support: a graceful `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** Arms (or moves earlier) the force-close deadline `ms` from now. */
  #cutAt(ms: number): void {
    const at = Date.now() + ms;
    if (at >= this.#deadline) return;
    this.#deadline = at;
    this.#clearTimer();
    this.#timer = setTimeout(() => this.#serving.forceClose(), ms);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
