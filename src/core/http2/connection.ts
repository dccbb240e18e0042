/**
 * A server-side HTTP/2 connection (RFC 9113), socket-agnostic: bytes in through
 * {@link H2ServerConnection.receive}, bytes out through {@link H2Handler.write}, requests out
 * through the handler's callbacks, responses in through `respond` / `sendData` /
 * `sendTrailers` / `reset`.
 *
 * Strict: every frame rule of RFC 9113 §4–§6 and the request rules of §8 are checked; a
 * connection error answers GOAWAY with its code and ends the connection, a stream error answers
 * RST_STREAM on that stream. Abuse is bounded: control frames (PING, SETTINGS) and frames that
 * do no work (empty DATA, PRIORITY, frames on closed streams, WINDOW_UPDATE that returns none
 * of the octets sent …) each have a budget per window of time, streams reset before their response have tako's rapid-reset
 * budget, and a header block may not grow past a bound before END_HEADERS. Each is answered
 * GOAWAY ENHANCE_YOUR_CALM.
 *
 * Flow control runs both ways. Received DATA is handed to the application as views of the
 * input, and its window is returned (WINDOW_UPDATE) only as the application calls
 * {@link H2ServerConnection.consume}, so an unread upload holds the peer back. Response DATA
 * waits for the stream and connection windows and for the socket ({@link setWritable}).
 *
 * Hot path: a receive call parses every complete frame of the chunk in place, and everything
 * the connection writes meanwhile (ACKs, responses given synchronously by the handler) goes out
 * as one write at the end of it.
 *
 * This file is the API and the framing of the input; the rules for each frame the peer sends are
 * in `inbound.ts` ({@link H2Inbound}), the state they share and the ways streams end in
 * `state.ts`, what is remembered of closed streams in `ids.ts`, response DATA in `sender.ts`.
 */

import { H2_PREFACE } from "../h2.ts";
import { connError, H2Code, H2Error } from "./errors.ts";
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, fieldSectionSize, Setting, u32 } from "./frames.ts";
import type { H2ConnectionOptions, H2Handler } from "./handler.ts";
import { H2Inbound } from "./inbound.ts";
import { type H2Stream, SEND_DONE, SEND_IDLE, SEND_OPEN } from "./stream.ts";

const PREFACE_BYTES = Uint8Array.from(H2_PREFACE, (c) => c.charCodeAt(0));

/** One server-side HTTP/2 connection. */
export class H2ServerConnection {
  /** The state, and the rules for the peer's frames. */
  readonly #c: H2Inbound;
  /** A frame split across reads: its octets so far (allocated when first needed). */
  #partial: Uint8Array | null = null;
  #partialLen = 0;
  #prefaceSeen = 0;

  constructor(handler: H2Handler, options: H2ConnectionOptions = {}) {
    this.#c = new H2Inbound(handler, options);
  }

  /** Writes the server's connection preface: SETTINGS, and the connection window beyond the default. */
  start(): void {
    const c = this.#c;
    c.w.settings([
      [Setting.MAX_CONCURRENT_STREAMS, c.maxStreams],
      [Setting.INITIAL_WINDOW_SIZE, c.streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, c.maxList],
      [Setting.ENABLE_PUSH, 0],
    ]);
    c.settingsSent = c.now();
    if (c.connWindow > DEFAULT_WINDOW) {
      c.w.windowUpdate(0, c.connWindow - DEFAULT_WINDOW);
      c.connRecvWindow = c.connWindow;
    }
    c.flushSoon();
  }

  /** True once the connection has ended (after a connection error or a finished graceful close). */
  get closed(): boolean {
    return this.#c.closed;
  }

  /** Streams open (including those whose response is still being sent). */
  get streamCount(): number {
    return this.#c.streams.size;
  }

  /** The peer acknowledged our SETTINGS ({@link sweep} ends the connection when it does not in time). */
  get settingsAcknowledged(): boolean {
    return this.#c.settingsAcked;
  }

  /**
   * The deadlines the connection keeps, for its owner's periodic sweep (the codec has no timers):
   * our SETTINGS not acknowledged within `settingsTimeout` of {@link start} ends the connection
   * with GOAWAY SETTINGS_TIMEOUT (`onClose` with that error). `now` is on the clock of the
   * `now` option (`Date.now` by default).
   */
  sweep(now: number): void {
    const c = this.#c;
    if (c.closed || c.settingsAcked) return;
    if (now - c.settingsSent >= c.settingsTimeout) c.fail(connError(H2Code.SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time"));
  }

  /** The highest client stream id seen (the last-stream-id a GOAWAY carries). */
  get lastStreamId(): number {
    return this.#c.ids.last;
  }

  // --- input -----------------------------------------------------------------------------------

  /**
   * Feeds bytes read from the socket. Frames may be split anywhere; complete frames are read
   * in place, and only a frame that straddles two reads is copied (into one buffer of the
   * largest frame size, so a trickled frame costs no more than one copy).
   */
  receive(chunk: Uint8Array): void {
    const c = this.#c;
    if (c.closed) return;
    c.inReceive = true;
    let pos = 0;
    try {
      if (this.#prefaceSeen < 24) {
        const n = Math.min(24 - this.#prefaceSeen, chunk.length);
        for (let i = 0; i < n; i++) if (chunk[i] !== PREFACE_BYTES[this.#prefaceSeen + i]) throw connError(H2Code.PROTOCOL_ERROR, "invalid connection preface");
        this.#prefaceSeen += n;
        pos = n;
      }
      if (this.#partialLen > 0) {
        pos = this.#completePartial(chunk, pos);
        if (pos < 0) return;
      }
      while (chunk.length - pos >= 9 && !c.closed) {
        const length = this.#frameLength(chunk, pos);
        if (chunk.length - pos - 9 < length) break;
        this.#dispatch(chunk, pos, length);
        pos += 9 + length;
      }
      if (pos < chunk.length && !c.closed) {
        this.#partial ??= new Uint8Array(9 + DEFAULT_MAX_FRAME_SIZE);
        this.#partial.set(chunk.subarray(pos), 0);
        this.#partialLen = chunk.length - pos;
      }
    } catch (error) {
      // Anything else thrown here came from the handler: the peer learns nothing of it.
      c.fail(error instanceof H2Error ? error : connError(H2Code.INTERNAL_ERROR, "internal error"));
    } finally {
      c.inReceive = false;
      c.flush();
    }
  }

  /** The payload length of the frame header at `pos`, checked against our SETTINGS_MAX_FRAME_SIZE. */
  #frameLength(b: Uint8Array, pos: number): number {
    const length = (b[pos]! << 16) | (b[pos + 1]! << 8) | b[pos + 2]!;
    if (length > DEFAULT_MAX_FRAME_SIZE) throw connError(H2Code.FRAME_SIZE_ERROR, `frame of ${length} octets over SETTINGS_MAX_FRAME_SIZE`);
    return length;
  }

  /**
   * Adds `chunk[pos…]` to the frame begun in an earlier read; returns where the chunk's own
   * frames start once it is complete and dispatched, or -1 when the chunk ended first.
   */
  #completePartial(chunk: Uint8Array, pos: number): number {
    const part = this.#partial!;
    let have = this.#partialLen;
    if (have < 9) {
      const take = Math.min(9 - have, chunk.length - pos);
      part.set(chunk.subarray(pos, pos + take), have);
      have += take;
      pos += take;
      this.#partialLen = have;
      if (have < 9) return -1;
    }
    const total = 9 + this.#frameLength(part, 0);
    const take = Math.min(total - have, chunk.length - pos);
    part.set(chunk.subarray(pos, pos + take), have);
    this.#partialLen = have + take;
    if (have + take < total) return -1;
    this.#partialLen = 0;
    this.#dispatch(part, 0, total - 9);
    return pos + take;
  }

  /** One complete frame at `b[pos]`: a stream error answers RST_STREAM here, a connection error goes up. */
  #dispatch(b: Uint8Array, pos: number, length: number): void {
    const start = pos + 9;
    try {
      this.#c.frame(b[pos + 3]!, b[pos + 4]!, u32(b, pos + 5) & 0x7fffffff, b, start, start + length);
    } catch (error) {
      if (!(error instanceof H2Error) || error.streamId === 0) throw error;
      this.#c.streamFailed(error);
    }
  }

  // --- application side -----------------------------------------------------------------------

  /**
   * Sends the response head on `streamId` (a 1xx `status` may precede the final one). `headers`
   * is `[name, value, …]` with lower-case names; connection-specific fields must not be among
   * them. Returns false when the stream is gone (reset) or already answered.
   */
  respond(streamId: number, status: number, headers: readonly string[], endStream = false): boolean {
    const c = this.#c;
    const s = c.streams.get(streamId);
    if (s === undefined || s.send !== SEND_IDLE || c.closed) return false;
    if (c.peer.maxHeaderListSize !== Infinity && fieldSectionSize(headers, true) > c.peer.maxHeaderListSize) {
      // An informational response is optional: left out. A final one the peer would refuse
      // ends the stream with RST_STREAM INTERNAL_ERROR, as nghttp2 resets a response head it
      // cannot send.
      if (status < 200) return true;
      return this.#tooLarge(s);
    }
    if (status < 200) {
      c.w.headers(streamId, status, headers, false);
    } else {
      c.w.headers(streamId, status, headers, endStream);
      s.send = endStream ? SEND_DONE : SEND_OPEN;
      if (endStream) c.responseDone(s);
    }
    c.flushSoon();
    return true;
  }

  /**
   * Queues response body bytes (the connection keeps `bytes` until they are written: do not
   * change them). `end` ends the response. Returns false once the stream's queue holds more
   * than `maxSendBufSize` octets: wait for `onDrain` before sending more. Writes to a stream
   * that is gone are dropped (the handler had `onReset`).
   */
  sendData(streamId: number, bytes: Uint8Array, end = false): boolean {
    const c = this.#c;
    const s = c.streams.get(streamId);
    if (s === undefined || s.send !== SEND_OPEN || c.closed) return true;
    c.send.queue(s, bytes, end);
    c.flushSoon();
    if (s.backlogBytes > c.maxSendBuf) {
      s.wantDrain = true;
      return false;
    }
    return true;
  }

  /** Ends the response with a trailer section (`[name, value, …]`), after the queued DATA. */
  sendTrailers(streamId: number, trailers: readonly string[]): boolean {
    const c = this.#c;
    const s = c.streams.get(streamId);
    if (s === undefined || s.send !== SEND_OPEN || c.closed) return false;
    if (c.peer.maxHeaderListSize !== Infinity && fieldSectionSize(trailers, false) > c.peer.maxHeaderListSize) return this.#tooLarge(s);
    s.trailers = trailers;
    c.send.queue(s, null, true);
    c.flushSoon();
    return true;
  }

  /**
   * A response field section over the peer's SETTINGS_MAX_HEADER_LIST_SIZE: RST_STREAM
   * INTERNAL_ERROR, `onReset(id, INTERNAL_ERROR)`, and false for the caller.
   */
  #tooLarge(s: H2Stream): false {
    const c = this.#c;
    c.w.rst(s.id, H2Code.INTERNAL_ERROR);
    c.ids.markReset(s.id);
    c.remove(s);
    c.flushSoon();
    c.h.onReset(s.id, H2Code.INTERNAL_ERROR);
    return false;
  }

  /** Resets `streamId` with `code` (RST_STREAM); the stream is forgotten. */
  reset(streamId: number, code: number = H2Code.CANCEL): void {
    const c = this.#c;
    const s = c.streams.get(streamId);
    if (s === undefined || c.closed) return;
    c.w.rst(streamId, code);
    c.remove(s);
    c.ids.markReset(streamId);
    c.flushSoon();
  }

  /** The application is done with `n` octets of `streamId`'s body: their window goes back to the peer. */
  consume(streamId: number, n: number): void {
    const c = this.#c;
    const s = c.streams.get(streamId);
    if (s === undefined || n <= 0) return;
    s.outstanding -= n;
    c.consumed(s, n);
    c.flushSoon();
  }

  /** The socket can take more (`true`) or its buffer is full (`false`): DATA waits while it is full. */
  setWritable(writable: boolean): void {
    const c = this.#c;
    c.send.writable = writable;
    if (writable && !c.closed) {
      c.send.pumpAll(c.streams.values());
      c.flushSoon();
    }
  }

  /** Sends a PING (keep-alive); the answer comes to `onPingAck`. */
  ping(payload: Uint8Array = new Uint8Array(8)): void {
    const c = this.#c;
    if (c.closed) return;
    c.w.ping(payload, 0, false);
    c.flushSoon();
  }

  /**
   * GOAWAY with the last stream id seen: streams already open finish, newer ones are refused.
   * With NO_ERROR the connection closes (`onClose(null)`) once the last stream ends; with
   * another code at once.
   */
  goaway(code: number = H2Code.NO_ERROR, debug = ""): void {
    const c = this.#c;
    if (c.closed) return;
    if (code !== H2Code.NO_ERROR) return c.fail(connError(code, debug || "closed by the server"), debug);
    if (!c.goingAway) {
      c.goingAway = true;
      c.w.goaway(c.ids.last, code, debug);
    }
    if (c.streams.size === 0) c.finish();
    c.flushSoon();
  }
}
