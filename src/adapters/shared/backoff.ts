import type { AcceptBackoff } from "../../core/config.ts";

/**
 * The accept-error backoff (`ServerConfig.acceptBackoff`): `initial` after the first error,
 * doubling on each error in a row up to `max`; a successful accept resets it. Engines use it to
 * pace what they cannot do at once after EMFILE and friends (listen again, report the error).
 */
export class Backoff {
  readonly #schedule: AcceptBackoff;
  #delay = 0;

  constructor(schedule: AcceptBackoff) {
    this.#schedule = schedule;
  }

  /** The delay for the next error in a row, in milliseconds. */
  next(): number {
    this.#delay = this.#delay === 0 ? this.#schedule.initial : Math.min(this.#delay * 2, this.#schedule.max);
    return this.#delay;
  }

  /** An accept succeeded: the next error starts from `initial` again. */
  reset(): void {
    this.#delay = 0;
  }
}

/**
 * Accept errors a listener keeps retrying on its own (node:net: libuv sheds the connections it
 * cannot take and keeps listening), reported to the console paced by the backoff schedule: the
 * first of a streak, then at most one per step, so a descriptor shortage does not flood the log.
 */
export class AcceptErrorReports {
  #backoff: Backoff;
  #nextReport = 0;

  constructor(schedule: AcceptBackoff) {
    this.#backoff = new Backoff(schedule);
  }

  /** From now on, paced by `schedule` (the server's `acceptBackoff`). */
  schedule(schedule: AcceptBackoff): void {
    this.#backoff = new Backoff(schedule);
  }

  /** A connection was accepted: the streak is over. */
  accepted(): void {
    this.#backoff.reset();
  }

  report(error: Error): void {
    const now = Date.now();
    const delay = this.#backoff.next();
    if (now < this.#nextReport) return;
    this.#nextReport = now + delay;
    console.error(`tako: accept failed (${(error as Error & { code?: string }).code ?? error.message}); still listening`);
  }
}
