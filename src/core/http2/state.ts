/**
 * The state of one server connection, shared by the side that reads the peer's frames
 * ({@link H2Inbound}) and the application's side ({@link H2ServerConnection}): the streams and
 * what is remembered of closed ones, the receive windows, the abuse budgets, the output, and
 * the ways a stream or the connection ends. Internal to the codec: fields are plain for its two
 * users, and none of it is exported from the package.
 */

import { FrameBudget, ResetBudget } from "../h2.ts";
import { connError, H2Code, type H2Error } from "./errors.ts";
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, MAX_WINDOW, type PeerSettings } from "./frames.ts";
import type { H2ConnectionOptions, H2Handler } from "./handler.ts";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";
import { StreamIds } from "./ids.ts";
import { H2Sender } from "./sender.ts";
import { type H2Stream, SEND_DONE } from "./stream.ts";
import { FrameWriter } from "./writer.ts";

/** Frames that do no work (empty DATA, PRIORITY, on closed streams …) allowed per budget window. */
const JUNK_BUDGET = 1000;

/** One connection's state and the operations on its streams (see the module comment). */
export class ConnectionState {
  readonly h: H2Handler;
  readonly maxStreams: number;
  readonly maxList: number;
  readonly maxSendBuf: number;
  readonly streamWindow: number;
  readonly connWindow: number;
  readonly now: () => number;
  readonly settingsTimeout: number;
  /** When our SETTINGS went out (the clock of `now`). */
  settingsSent = 0;
  readonly decoder = new HpackDecoder();
  readonly encoder: HpackEncoder;
  readonly control = new FrameBudget();
  readonly junk = new FrameBudget(JUNK_BUDGET);
  readonly resets: ResetBudget;
  readonly streams = new Map<number, H2Stream>();
  readonly ids: StreamIds;
  readonly peer: PeerSettings = { headerTableSize: 4096, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: DEFAULT_MAX_FRAME_SIZE, maxHeaderListSize: Infinity };
  readonly w: FrameWriter;
  readonly send: H2Sender;
  settingsAcked = false;
  /** Inside `receive`: what is written waits for its end (one write per read). */
  inReceive = false;
  closed = false;
  /** We sent GOAWAY NO_ERROR: streams open finish, new ones are refused. */
  goingAway = false;
  peerGoaway = false;
  connRecvWindow = DEFAULT_WINDOW;
  connUnacked = 0;

  constructor(handler: H2Handler, options: H2ConnectionOptions) {
    this.h = handler;
    this.maxStreams = options.maxConcurrentStreams ?? 100;
    this.maxList = options.maxHeaderListSize ?? 16 * 1024;
    this.maxSendBuf = options.maxSendBufSize ?? 1024 * 1024;
    this.streamWindow = Math.min(MAX_WINDOW, Math.max(DEFAULT_WINDOW, options.initialWindowSize ?? 256 * 1024));
    this.connWindow = Math.min(MAX_WINDOW, Math.max(DEFAULT_WINDOW, options.connectionWindowSize ?? 1024 * 1024));
    this.resets = new ResetBudget(options.maxPendingAcceptResetStreams ?? 50);
    this.ids = new StreamIds(this.maxStreams);
    this.encoder = new HpackEncoder(options.huffman ?? false);
    this.w = new FrameWriter(this.encoder);
    this.send = new H2Sender(this.w, this.peer, {
      responseDone: (st) => this.responseDone(st),
      drained: (st) => this.h.onDrain(st.id),
      flush: () => this.flush(),
    });
    this.now = options.now ?? Date.now;
    this.settingsTimeout = options.settingsTimeout ?? 10_000;
  }

  junkFrame(): void {
    if (this.junk.hit(this.now())) throw connError(H2Code.ENHANCE_YOUR_CALM, "too many frames that do no work");
  }

  // --- streams ---------------------------------------------------------------------------------

  /**
   * A stream error: RST_STREAM with its code. A stream whose handler is still at work counts
   * against the rapid-reset budget like a reset from the peer (a peer provoking resets with
   * invalid frames must not get more work done than one sending RST_STREAM); one refused before
   * the application saw it counts as a frame that does no work.
   */
  streamFailed(error: H2Error): void {
    const s = this.streams.get(error.streamId);
    this.w.rst(error.streamId, error.code);
    this.ids.markReset(error.streamId);
    if (s === undefined || !s.delivered) {
      if (s !== undefined) this.remove(s);
      return this.junkFrame();
    }
    this.remove(s);
    if (s.send !== SEND_DONE) this.h.onReset(s.id, error.code);
    if (s.pendingAccept && this.resets.reset()) throw connError(H2Code.ENHANCE_YOUR_CALM, "too many streams reset before their response");
  }

  /** A stream refused before it opened (REFUSED_STREAM): counted as a frame that does no work. */
  refuse(id: number, code: number): void {
    this.w.rst(id, code);
    this.ids.markReset(id);
    this.junkFrame();
  }

  maybeClose(s: H2Stream): void {
    if (!s.recvOpen && s.send === SEND_DONE) this.remove(s);
  }

  /**
   * The response is complete. When the request is still arriving, the rest is not wanted:
   * RST_STREAM NO_ERROR asks the client to stop sending (RFC 9113 §8.1), the application is
   * told with `onReset(id, NO_ERROR)`, and the stream's unread octets go back to the connection.
   */
  responseDone(s: H2Stream): void {
    if (s.pendingAccept) {
      s.pendingAccept = false;
      this.resets.completed();
    }
    if (!s.recvOpen) return this.remove(s);
    this.w.rst(s.id, H2Code.NO_ERROR);
    this.ids.markReset(s.id);
    this.remove(s);
    if (s.delivered) this.h.onReset(s.id, H2Code.NO_ERROR);
  }

  remove(s: H2Stream): void {
    if (!this.streams.delete(s.id)) return;
    // Body octets the application will never consume give the connection window back.
    if (s.outstanding > 0) this.credit(s.outstanding);
    s.outstanding = 0;
    s.backlog.length = 0;
    s.backlogBytes = 0;
    this.send.forget(s);
    if ((this.goingAway || this.peerGoaway) && this.streams.size === 0) this.finish();
  }

  /** `n` octets of `s` are done with: return them to both windows once half a window has built up. */
  consumed(s: H2Stream, n: number): void {
    this.credit(n);
    if (!s.recvOpen) return;
    s.unacked += n;
    if (s.unacked >= this.streamWindow >>> 1) {
      this.w.windowUpdate(s.id, s.unacked);
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
  }

  /** `n` octets of the connection window are done with. */
  credit(n: number): void {
    this.connUnacked += n;
    if (this.connUnacked >= this.connWindow >>> 1) {
      this.w.windowUpdate(0, this.connUnacked);
      this.connRecvWindow += this.connUnacked;
      this.connUnacked = 0;
    }
  }

  // --- output ----------------------------------------------------------------------------------

  flushSoon(): void {
    if (!this.inReceive) this.flush();
  }

  flush(): void {
    const bytes = this.w.take();
    if (bytes !== null) this.h.write(bytes);
  }

  // --- the end ---------------------------------------------------------------------------------

  /** Graceful end: every stream finished after a GOAWAY (ours or the peer's). */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.h.onClose(null);
  }

  /** Connection error: GOAWAY with its code, every stream ends, then `onClose(error)`. */
  fail(error: H2Error, debug = error.message): void {
    if (this.closed) return;
    this.closed = true;
    this.w.goaway(this.ids.last, error.code, debug);
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.send.clear();
    this.flush();
    for (const s of streams) if (s.delivered && s.send !== SEND_DONE) this.h.onReset(s.id, error.code);
    this.h.onClose(error);
  }
}
