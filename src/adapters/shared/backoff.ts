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
