/**
 * What a connection remembers of the client's stream ids once their streams are gone, in
 * bounded memory: the highest id opened, the ranges of ids the client skipped (closed without
 * ever opening, RFC 9113 §5.1.1), and which of the recent ids were reset, and by whom.
 *
 * Every odd id at or below the highest one that is not open is closed (RFC 9113 §5.1), and how
 * it closed decides what a frame on it means: in flight after the server's RST_STREAM (ignored),
 * sent after the client's own RST_STREAM (a stream error STREAM_CLOSED), or after both sides
 * ended (a connection error STREAM_CLOSED). So two bits per recent id: the server reset it, the
 * client did. The bits cover the last `slots` odd ids (a ring, cleared as new ids open); a
 * closed id older than that is {@link StreamIds.forgotten}: the connection no longer knows how
 * it closed, and answers frames on it as stream errors rather than connection errors.
 */

/** Skipped ranges kept (pairs of ids), the oldest dropped first. */
const SKIPPED_MEMORY = 128;

export class StreamIds {
  /** The highest client stream id seen (the last-stream-id a GOAWAY carries). */
  last = 0;
  /** One bit per odd id in the ring: the server reset that stream. */
  readonly #bits: Uint32Array;
  /** One bit per odd id in the ring: the client reset that stream. */
  readonly #peerBits: Uint32Array;
  /** Ring size in odd ids, a power of two. */
  readonly #slots: number;
  /** Ranges `[from, to]` of ids the peer skipped, the last {@link SKIPPED_MEMORY} / 2. */
  readonly #skipped: number[] = [];

  /**
   * `maxStreams` is SETTINGS_MAX_CONCURRENT_STREAMS: a client has at most that many streams
   * open, so DATA it sent before it saw our RST_STREAM is on one of the last few multiples of it.
   * The ring covers four times that, at least 1,024 ids and at most 65,536 (two bits each: 256
   * octets to 16 KiB).
   */
  constructor(maxStreams: number) {
    let slots = 1024;
    while (slots < 4 * maxStreams && slots < 65_536) slots *= 2;
    this.#slots = slots;
    this.#bits = new Uint32Array(slots >>> 5);
    this.#peerBits = new Uint32Array(slots >>> 5);
  }

  /** A stream id the peer never opened (RFC 9113 §5.1 "idle"). */
  idle(id: number): boolean {
    return id > this.last || (id & 1) === 0;
  }

  /** `id`, odd and above {@link last}, opens: the ids between are skipped, and the ring moves up to it. */
  open(id: number): void {
    const from = this.last === 0 ? 1 : this.last + 2;
    if (id > from) {
      this.#skipped.push(from, id - 2);
      if (this.#skipped.length > SKIPPED_MEMORY) this.#skipped.splice(0, 2);
    }
    if ((id - from) >>> 1 >= this.#slots) {
      this.#bits.fill(0);
      this.#peerBits.fill(0);
    } else {
      for (let k = from; k <= id; k += 2) {
        this.#set(this.#bits, k, false);
        this.#set(this.#peerBits, k, false);
      }
    }
    this.last = id;
  }

  /** The server reset `id` (RST_STREAM): frames still in flight on it are to be ignored. */
  markReset(id: number): void {
    if (this.#known(id)) this.#set(this.#bits, id, true);
  }

  /** The server reset `id`, recently enough to remember it. */
  wasReset(id: number): boolean {
    return this.#known(id) && this.#get(this.#bits, id);
  }

  /** The client reset `id` (RST_STREAM): more frames from it on that stream are a stream error. */
  markPeerReset(id: number): void {
    if (this.#known(id)) this.#set(this.#peerBits, id, true);
  }

  /** The client reset `id`, recently enough to remember it. */
  wasPeerReset(id: number): boolean {
    return this.#known(id) && this.#get(this.#peerBits, id);
  }

  /** `id` is a client id the ring covers. */
  #known(id: number): boolean {
    return (id & 1) === 1 && id <= this.last && !this.forgotten(id);
  }

  /** `id` is closed and older than the ring: whether the server reset it is not known any more. */
  forgotten(id: number): boolean {
    return id <= this.last && (this.last - id) >>> 1 >= this.#slots;
  }

  /** `id` lies in a range the peer skipped. */
  wasSkipped(id: number): boolean {
    const r = this.#skipped;
    for (let i = 0; i < r.length; i += 2) if (id >= r[i]! && id <= r[i + 1]!) return true;
    return false;
  }

  #get(bits: Uint32Array, id: number): boolean {
    const slot = (id >>> 1) & (this.#slots - 1);
    return (bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  #set(bits: Uint32Array, id: number, on: boolean): void {
    const slot = (id >>> 1) & (this.#slots - 1);
    if (on) bits[slot >>> 5]! |= 1 << (slot & 31);
    else bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}
