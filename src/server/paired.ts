import type { H3Serving, Serving } from "../adapters/engine.ts";

const ignore = (): void => {};

/**
 * A TCP transport and the HTTP/3 server started beside it (`spawnTls(…, { http3: true })`) as
 * one {@link Serving}, so one handle drains both. HTTP/3 starts asynchronously: a drain or
 * force-close asked before it is up is applied when it is. Neither side is left serving alone:
 * when either fails to start, the other is closed at once and `ready` rejects with the error.
 * `closed` resolves once both have stopped.
 */
export class PairedServing implements Serving {
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  readonly #tcp: Serving;
  #h3: H3Serving | null = null;
  #draining = false;
  #forced = false;

  constructor(tcp: Serving, h3: Promise<H3Serving>) {
    this.#tcp = tcp;
    const started = h3.then((serving) => {
      this.#h3 = serving;
      if (this.#forced) serving.forceClose();
      else if (this.#draining) serving.drain();
      return serving;
    });
    const h3Ready = started.then((serving) => serving.ready);
    this.ready = Promise.all([tcp.ready, h3Ready]).then(ignore);
    this.ready.catch(() => this.forceClose()); // reported to whoever awaits ready()
    this.closed = Promise.all([tcp.closed, started.then((serving) => serving.closed, ignore)]).then(ignore);
  }

  drain(): void {
    this.#draining = true;
    this.#tcp.drain();
    this.#h3?.drain();
  }

  forceClose(): void {
    this.#draining = this.#forced = true;
    this.#tcp.forceClose();
    this.#h3?.forceClose();
  }
}
