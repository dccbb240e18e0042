/**
 * The send side of a connection's flow control: response DATA waits for the stream's window,
 * the connection's window and the socket, and goes out in frames no larger than the peer allows.
 */

import { DEFAULT_WINDOW, type PeerSettings } from "./frames.ts";
import { type H2Stream, SEND_DONE, SEND_ENDING } from "./stream.ts";
import { FLUSH_AT, type FrameWriter } from "./writer.ts";

const NO_BYTES = new Uint8Array(0);

/** What the sender asks of its connection. */
export interface SenderHost {
  /** The response of `s` is complete (END_STREAM written). */
  responseDone(s: H2Stream): void;
  /** `s` had said "full" and its queue is empty again. */
  drained(s: H2Stream): void;
  /** Writes the gathered frames now. */
  flush(): void;
}

/** Response DATA under flow control, for one connection. */
export class H2Sender {
  /** The connection's send window (WINDOW_UPDATE on stream 0 adds to it). */
  window = DEFAULT_WINDOW;
  /** Connection-window octets sent and not yet returned; a grant beyond them seen ({@link SendCredit}). */
  unreturned = 0;
  granted = false;
  /** The socket takes more; while false, DATA waits. */
  writable = true;
  /** Streams with DATA waiting for the connection window or the socket, in arrival order. */
  readonly #blocked = new Set<H2Stream>();
  readonly #w: FrameWriter;
  readonly #peer: PeerSettings;
  readonly #host: SenderHost;

  constructor(writer: FrameWriter, peer: PeerSettings, host: SenderHost) {
    this.#w = writer;
    this.#peer = peer;
    this.#host = host;
  }

  /** Queues `bytes` (none: `null`) on `s`, `end` ending the response, and writes what the windows allow. */
  queue(s: H2Stream, bytes: Uint8Array | null, end: boolean): void {
    // Hot path: nothing queued before, and the windows take it all in one frame.
    if (bytes !== null && s.backlogBytes === 0 && this.writable && s.trailers === null) {
      const n = bytes.length;
      if (n <= s.sendWindow && n <= this.window && n <= this.#peer.maxFrameSize && (n > 0 || end)) {
        this.#w.data(s.id, bytes, end);
        s.sendWindow -= n;
        s.unreturned += n;
        this.window -= n;
        this.unreturned += n;
        if (end) {
          s.send = SEND_DONE;
          this.#host.responseDone(s);
        }
        return;
      }
    }
    if (bytes !== null && bytes.length > 0) {
      s.backlog.push(bytes);
      s.backlogBytes += bytes.length;
    }
    if (end) s.send = SEND_ENDING;
    this.pump(s);
  }

  /** A window opened or the socket drained: the blocked streams first, then any other with a queue. */
  pumpAll(streams: Iterable<H2Stream>): void {
    for (const s of this.#blocked) {
      this.#blocked.delete(s);
      this.pump(s);
      if (this.window === 0 || !this.writable) break;
    }
    for (const s of streams) if (s.backlogBytes > 0 && !this.#blocked.has(s)) this.pump(s);
  }

  /** `s` is gone. */
  forget(s: H2Stream): void {
    this.#blocked.delete(s);
  }

  /** Every stream is gone. */
  clear(): void {
    this.#blocked.clear();
  }

  /** Writes as much of the stream's queue as the windows, the frame size and the socket allow. */
  pump(s: H2Stream): void {
    const maxFrame = this.#peer.maxFrameSize;
    const w = this.#w;
    let ended = false;
    while (s.backlogBytes > 0) {
      if (!this.writable || this.window <= 0) {
        this.#blocked.add(s);
        return;
      }
      const n = Math.min(s.backlogBytes, s.sendWindow, this.window, maxFrame);
      if (n <= 0) return; // the stream's own window: its WINDOW_UPDATE pumps it
      ended = n === s.backlogBytes && s.send === SEND_ENDING && s.trailers === null;
      let p = w.dataHeader(s.id, n, ended);
      let left = n;
      while (left > 0) {
        const chunk = s.backlog[0]!;
        const take = Math.min(left, chunk.length - s.backlogOffset);
        w.out.set(take === chunk.length ? chunk : chunk.subarray(s.backlogOffset, s.backlogOffset + take), p);
        p += take;
        left -= take;
        s.backlogOffset += take;
        if (s.backlogOffset === chunk.length) {
          s.backlog.shift();
          s.backlogOffset = 0;
        }
      }
      w.length = p;
      s.backlogBytes -= n;
      s.sendWindow -= n;
      s.unreturned += n;
      this.window -= n;
      this.unreturned += n;
      // A large window is not turned into one large write: past FLUSH_AT the socket gets what
      // there is, and says whether it takes more (setWritable) before the next frame.
      if (w.length >= FLUSH_AT) this.#host.flush();
    }
    if (s.send === SEND_ENDING) {
      if (!ended) {
        if (s.trailers !== null) w.trailers(s.id, s.trailers);
        else w.data(s.id, NO_BYTES, true);
      }
      s.send = SEND_DONE;
      this.#host.responseDone(s);
      return;
    }
    if (s.wantDrain) {
      s.wantDrain = false;
      this.#host.drained(s);
    }
  }
}
