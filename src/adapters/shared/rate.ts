/**
 * A body's received-byte count, sampled only when the connection cap asks whether an upload
 * has stalled (oldest connection first): the first call samples; a later call at least a second
 * after the previous sample tells whether fewer than `minRate` bytes/s arrived in between.
 * Shared by every engine's `idle` hook, so a stalled upload is shed like an idle connection.
 */
export class RateSample {
  #at = -1;
  #bytes = 0;

  /** True when the body arrived slower than `minRate` bytes/s since the previous sample (`bytes`: received so far). */
  below(bytes: number, minRate: number, now: number = Date.now()): boolean {
    if (this.#at < 0 || now - this.#at < 1000) {
      if (this.#at < 0) {
        this.#at = now;
        this.#bytes = bytes;
      }
      return false;
    }
    const rate = ((bytes - this.#bytes) * 1000) / (now - this.#at);
    this.#at = now;
    this.#bytes = bytes;
    return rate < minRate;
  }
}
