/**
 * A server-side HTTP/2 connection (RFC 9113), socket-agnostic: bytes in through
 * {@link H2ServerConnection.receive}, bytes out through {@link H2Handler.write}, requests out
 * through the handler's callbacks, responses in through `respond` / `sendData` /
 * `sendTrailers` / `reset`.
 *
 * Strict: every frame rule of RFC 9113 §4–§6 and the request rules of §8 are checked; a
 * connection error answers GOAWAY with its code and ends the connection, a stream error answers
 * RST_STREAM on that stream. Abuse is bounded: control frames (PING, SETTINGS) and frames that
 * do no work (empty DATA, PRIORITY, frames on closed streams, zero WINDOW_UPDATE …) each have a
 * budget per window of time, streams reset before their response have tako's rapid-reset
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
 */

import { FrameBudget, H2_PREFACE, ResetBudget } from "../h2.ts";
import { connError, H2Code, H2Error, streamError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, fieldSectionSize, Flag, FrameType, MAX_WINDOW, type PeerSettings, readSettings, Setting, u32 } from "./frames.ts";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";
import { requestHead, trailersProblem } from "./request.ts";
import { StreamIds } from "./ids.ts";
import { H2Stream, idleWindowUpdate, SEND_DONE, SEND_IDLE, SEND_OPEN } from "./stream.ts";
import type { H2ConnectionOptions, H2Handler } from "./handler.ts";
import { H2Sender } from "./sender.ts";
import { FrameWriter } from "./writer.ts";

const PREFACE_BYTES = Uint8Array.from(H2_PREFACE, (c) => c.charCodeAt(0));
/** Frames that do no work (empty DATA, PRIORITY, on closed streams …) allowed per budget window. */
const JUNK_BUDGET = 1000;

const TOO_LARGE_BODY = Uint8Array.from("Request Header Fields Too Large", (c) => c.charCodeAt(0));
const TOO_LARGE_HEADERS = ["content-type", "text/plain; charset=utf-8", "content-length", String(TOO_LARGE_BODY.length)];
const CONNECT_BODY = Uint8Array.from("Method Not Allowed", (c) => c.charCodeAt(0));
const CONNECT_HEADERS = ["content-type", "text/plain; charset=utf-8", "content-length", String(CONNECT_BODY.length)];

/** One server-side HTTP/2 connection. */
export class H2ServerConnection {
  readonly #h: H2Handler;
  readonly #maxStreams: number;
  readonly #maxList: number;
  readonly #maxSendBuf: number;
  readonly #streamWindow: number;
  readonly #connWindow: number;
  readonly #maxBlock: number;
  readonly #now: () => number;
  readonly #settingsTimeout: number;
  /** When our SETTINGS went out (the clock of `now`). */
  #settingsSent = 0;
  readonly #decoder = new HpackDecoder();
  readonly #encoder: HpackEncoder;
  readonly #control = new FrameBudget();
  readonly #junk = new FrameBudget(JUNK_BUDGET);
  readonly #resets: ResetBudget;
  readonly #streams = new Map<number, H2Stream>();
  readonly #ids: StreamIds;
  readonly #peer: PeerSettings = { headerTableSize: 4096, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: DEFAULT_MAX_FRAME_SIZE, maxHeaderListSize: Infinity };

  readonly #w: FrameWriter;
  readonly #send: H2Sender;
  /** A frame split across reads: its octets so far (allocated when first needed). */
  #partial: Uint8Array | null = null;
  #partialLen = 0;
  #prefaceSeen = 0;
  #settingsSeen = false;
  #settingsAcked = false;
  #inReceive = false;
  #closed = false;
  #goaway = false;
  #peerGoaway = false;
  #connRecvWindow = DEFAULT_WINDOW;
  #connUnacked = 0;
  // Header block in progress (HEADERS without END_HEADERS, then CONTINUATION).
  #blockStream = 0;
  #blockEndStream = false;
  #blockSelfDependent = false;
  #block: Uint8Array | null = null;
  #blockLen = 0;

  constructor(handler: H2Handler, options: H2ConnectionOptions = {}) {
    this.#h = handler;
    this.#maxStreams = options.maxConcurrentStreams ?? 100;
    this.#maxList = options.maxHeaderListSize ?? 16 * 1024;
    this.#maxSendBuf = options.maxSendBufSize ?? 1024 * 1024;
    this.#streamWindow = Math.min(MAX_WINDOW, Math.max(DEFAULT_WINDOW, options.initialWindowSize ?? 256 * 1024));
    this.#connWindow = Math.min(MAX_WINDOW, Math.max(DEFAULT_WINDOW, options.connectionWindowSize ?? 1024 * 1024));
    this.#resets = new ResetBudget(options.maxPendingAcceptResetStreams ?? 50);
    this.#ids = new StreamIds(this.#maxStreams);
    this.#encoder = new HpackEncoder(options.huffman ?? false);
    this.#w = new FrameWriter(this.#encoder);
    this.#send = new H2Sender(this.#w, this.#peer, {
      responseDone: (st) => this.#responseDone(st),
      drained: (st) => this.#h.onDrain(st.id),
      flush: () => this.#flush(),
    });
    this.#now = options.now ?? Date.now;
    this.#settingsTimeout = options.settingsTimeout ?? 10_000;
    // A block may take more octets than the list it decodes to (Huffman codes of rare octets are
    // long); past twice the list limit plus a frame it is abuse.
    this.#maxBlock = this.#maxList * 2 + DEFAULT_MAX_FRAME_SIZE;
  }

  /** Writes the server's connection preface: SETTINGS, and the connection window beyond the default. */
  start(): void {
    this.#w.settings([
      [Setting.MAX_CONCURRENT_STREAMS, this.#maxStreams],
      [Setting.INITIAL_WINDOW_SIZE, this.#streamWindow],
      [Setting.MAX_HEADER_LIST_SIZE, this.#maxList],
      [Setting.ENABLE_PUSH, 0],
    ]);
    this.#settingsSent = this.#now();
    if (this.#connWindow > DEFAULT_WINDOW) {
      this.#w.windowUpdate(0, this.#connWindow - DEFAULT_WINDOW);
      this.#connRecvWindow = this.#connWindow;
    }
    this.#flushSoon();
  }

  /** True once the connection has ended (after a connection error or a finished graceful close). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Streams open (including those whose response is still being sent). */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** The peer acknowledged our SETTINGS ({@link sweep} ends the connection when it does not in time). */
  get settingsAcknowledged(): boolean {
    return this.#settingsAcked;
  }

  /**
   * The deadlines the connection keeps, for its owner's periodic sweep (the codec has no timers):
   * our SETTINGS not acknowledged within `settingsTimeout` of {@link start} ends the connection
   * with GOAWAY SETTINGS_TIMEOUT (`onClose` with that error). `now` is on the clock of the
   * `now` option (`Date.now` by default).
   */
  sweep(now: number): void {
    if (this.#closed || this.#settingsAcked) return;
    if (now - this.#settingsSent >= this.#settingsTimeout) this.#fail(connError(H2Code.SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time"));
  }

  /** The highest client stream id seen (the last-stream-id a GOAWAY carries). */
  get lastStreamId(): number {
    return this.#ids.last;
  }

  // --- input -----------------------------------------------------------------------------------

  /**
   * Feeds bytes read from the socket. Frames may be split anywhere; complete frames are read
   * in place, and only a frame that straddles two reads is copied (into one buffer of the
   * largest frame size, so a trickled frame costs no more than one copy).
   */
  receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#inReceive = true;
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
      while (chunk.length - pos >= 9 && !this.#closed) {
        const length = this.#frameLength(chunk, pos);
        if (chunk.length - pos - 9 < length) break;
        this.#dispatch(chunk, pos, length);
        pos += 9 + length;
      }
      if (pos < chunk.length && !this.#closed) {
        this.#partial ??= new Uint8Array(9 + DEFAULT_MAX_FRAME_SIZE);
        this.#partial.set(chunk.subarray(pos), 0);
        this.#partialLen = chunk.length - pos;
      }
    } catch (error) {
      // Anything else thrown here came from the handler: the peer learns nothing of it.
      this.#fail(error instanceof H2Error ? error : connError(H2Code.INTERNAL_ERROR, "internal error"));
    } finally {
      this.#inReceive = false;
      this.#flush();
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
      this.#frame(b[pos + 3]!, b[pos + 4]!, u32(b, pos + 5) & 0x7fffffff, b, start, start + length);
    } catch (error) {
      if (!(error instanceof H2Error) || error.streamId === 0) throw error;
      this.#streamFailed(error);
    }
  }

  #frame(type: number, flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (this.#blockStream !== 0 && type !== FrameType.CONTINUATION) throw connError(H2Code.PROTOCOL_ERROR, "frame inside a header block");
    if (!this.#settingsSeen) {
      if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) throw connError(H2Code.PROTOCOL_ERROR, "the client preface must start with SETTINGS");
      this.#settingsSeen = true;
    }
    switch (type) {
      case FrameType.DATA:
        return this.#data(flags, id, b, start, end);
      case FrameType.HEADERS:
        return this.#headers(flags, id, b, start, end);
      case FrameType.PRIORITY:
        if (id === 0) throw connError(H2Code.PROTOCOL_ERROR, "PRIORITY on stream 0");
        if (end - start !== 5) throw streamError(H2Code.FRAME_SIZE_ERROR, id, "PRIORITY length not 5");
        if ((u32(b, start) & 0x7fffffff) === id) throw streamError(H2Code.PROTOCOL_ERROR, id, "stream depends on itself");
        return this.#junkFrame();
      case FrameType.RST_STREAM:
        return this.#rstStream(id, b, start, end);
      case FrameType.SETTINGS:
        return this.#settings(flags, id, b, start, end);
      case FrameType.PUSH_PROMISE:
        throw connError(H2Code.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
      case FrameType.PING:
        if (id !== 0) throw connError(H2Code.PROTOCOL_ERROR, "PING on a stream");
        if (end - start !== 8) throw connError(H2Code.FRAME_SIZE_ERROR, "PING length not 8");
        if (flags & Flag.ACK) return this.#h.onPingAck?.(b.subarray(start, end));
        if (this.#control.hit(this.#now())) throw connError(H2Code.ENHANCE_YOUR_CALM, "PING flood");
        return this.#w.ping(b, start, true);
      case FrameType.GOAWAY:
        if (id !== 0) throw connError(H2Code.PROTOCOL_ERROR, "GOAWAY on a stream");
        if (end - start < 8) throw connError(H2Code.FRAME_SIZE_ERROR, "GOAWAY shorter than 8");
        this.#peerGoaway = true;
        if (this.#streams.size === 0) this.#finish();
        return;
      case FrameType.WINDOW_UPDATE:
        return this.#windowUpdateIn(id, b, start, end);
      case FrameType.CONTINUATION:
        return this.#continuation(flags, id, b, start, end);
      default:
        return this.#junkFrame(); // unknown frame types are ignored (RFC 9113 §4.1), counted
    }
  }

  #junkFrame(): void {
    if (this.#junk.hit(this.#now())) throw connError(H2Code.ENHANCE_YOUR_CALM, "too many frames that do no work");
  }

  #data(flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (id === 0) throw connError(H2Code.PROTOCOL_ERROR, "DATA on stream 0");
    const length = end - start;
    let dataStart = start;
    let dataEnd = end;
    if (flags & Flag.PADDED) {
      if (length < 1) throw connError(H2Code.FRAME_SIZE_ERROR, "PADDED DATA without a pad length");
      const pad = b[start]!;
      if (pad >= length) throw connError(H2Code.PROTOCOL_ERROR, "padding longer than the DATA payload");
      dataStart = start + 1;
      dataEnd = end - pad;
    }
    if (length > this.#connRecvWindow) throw connError(H2Code.FLOW_CONTROL_ERROR, "DATA over the connection window");
    this.#connRecvWindow -= length;
    const s = this.#streams.get(id);
    if (s === undefined || !s.recvOpen) {
      this.#credit(length);
      if (s !== undefined) throw streamError(H2Code.STREAM_CLOSED, id, "DATA after END_STREAM");
      const ids = this.#ids;
      // In flight when we reset the stream (RFC 9113 §5.4.2 lets it arrive): flow control bounds
      // DATA that carries octets, so only an empty one counts as a frame that does no work.
      if (ids.wasReset(id)) return length === 0 ? this.#junkFrame() : undefined;
      if (ids.idle(id) || ids.wasSkipped(id)) throw connError(H2Code.PROTOCOL_ERROR, "DATA on a stream never opened");
      // Closed too long ago to know whether we reset it: a stream error (RST_STREAM, counted as
      // a frame that does no work), as Go's and hyper's servers answer.
      if (ids.forgotten(id)) throw streamError(H2Code.STREAM_CLOSED, id, "DATA on a closed stream");
      throw connError(H2Code.STREAM_CLOSED, "DATA on a closed stream");
    }
    if (length > s.recvWindow) {
      this.#credit(length);
      throw streamError(H2Code.FLOW_CONTROL_ERROR, id, "DATA over the stream window");
    }
    s.recvWindow -= length;
    const size = dataEnd - dataStart;
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (size === 0 && !endStream) this.#junkFrame();
    s.received += size;
    if (s.contentLength >= 0 && (s.received > s.contentLength || (endStream && s.received !== s.contentLength))) {
      this.#credit(length);
      throw streamError(H2Code.PROTOCOL_ERROR, id, "DATA disagrees with content-length");
    }
    // Padding is consumed at once; the data when the application says so.
    if (length > size) this.#consumed(s, length - size);
    if (size > 0) {
      if (s.delivered) {
        s.outstanding += size;
        this.#h.onData(id, b.subarray(dataStart, dataEnd));
      } else this.#consumed(s, size);
    }
    if (endStream) {
      s.recvOpen = false;
      if (s.delivered) this.#h.onEnd(id, null);
      this.#maybeClose(s);
    }
  }

  #headers(flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (id === 0) throw connError(H2Code.PROTOCOL_ERROR, "HEADERS on stream 0");
    let p = start;
    let e = end;
    if (flags & Flag.PADDED) {
      if (e - p < 1) throw connError(H2Code.FRAME_SIZE_ERROR, "PADDED HEADERS without a pad length");
      const pad = b[p++]!;
      if (pad >= end - start) throw connError(H2Code.PROTOCOL_ERROR, "padding longer than the HEADERS payload");
      e -= pad;
    }
    // A stream that depends on itself is a stream error, once its block is decoded (HPACK state).
    let selfDependent = false;
    if (flags & Flag.PRIORITY) {
      if (e - p < 5) throw connError(H2Code.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      selfDependent = (u32(b, p) & 0x7fffffff) === id;
      p += 5;
    }
    if (p > e) throw connError(H2Code.PROTOCOL_ERROR, "padding longer than the HEADERS payload");
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) return this.#headerBlock(id, endStream, b, p, e, selfDependent);
    if (e - p === 0) this.#junkFrame();
    this.#blockStream = id;
    this.#blockEndStream = endStream;
    this.#blockSelfDependent = selfDependent;
    this.#blockLen = 0;
    this.#appendBlock(b, p, e);
  }

  #continuation(flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (this.#blockStream === 0 || id !== this.#blockStream) throw connError(H2Code.PROTOCOL_ERROR, "CONTINUATION without a header block on its stream");
    if (end === start && (flags & Flag.END_HEADERS) === 0) this.#junkFrame();
    this.#appendBlock(b, start, end);
    if ((flags & Flag.END_HEADERS) === 0) return;
    const block = this.#block!;
    const length = this.#blockLen;
    this.#blockStream = 0;
    this.#block = null;
    this.#headerBlock(id, this.#blockEndStream, block, 0, length, this.#blockSelfDependent);
  }

  #appendBlock(b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.#blockLen + n > this.#maxBlock) throw connError(H2Code.ENHANCE_YOUR_CALM, "header block too large");
    if (this.#block === null || this.#block.length < this.#blockLen + n) {
      const grown = new Uint8Array(Math.min(this.#maxBlock, Math.max(4096, (this.#blockLen + n) * 2)));
      if (this.#block !== null) grown.set(this.#block.subarray(0, this.#blockLen));
      this.#block = grown;
    }
    this.#block.set(b.subarray(start, end), this.#blockLen);
    this.#blockLen += n;
  }

  /** A complete header block on stream `id`: a request head, or trailers. */
  #headerBlock(id: number, endStream: boolean, b: Uint8Array, start: number, end: number, selfDependent: boolean): void {
    // Decoded first whatever happens to the stream: the HPACK context must stay in step.
    const fields = this.#decoder.decode(b, start, end, this.#maxList);
    const decoder = this.#decoder;
    const ids = this.#ids;
    if (selfDependent) {
      if (id > ids.last && (id & 1) === 1) ids.open(id);
      throw streamError(H2Code.PROTOCOL_ERROR, id, "stream depends on itself");
    }
    const existing = this.#streams.get(id);
    if (existing !== undefined) return this.#trailers(existing, endStream, fields);
    if ((id & 1) === 0) throw connError(H2Code.PROTOCOL_ERROR, "even stream id from a client");
    if (id <= ids.last) {
      if (ids.wasReset(id)) return; // trailers of a stream we reset: ignored
      if (ids.wasSkipped(id)) throw connError(H2Code.PROTOCOL_ERROR, "stream id lower than one already used");
      if (ids.forgotten(id)) throw streamError(H2Code.STREAM_CLOSED, id, "HEADERS on a closed stream");
      throw connError(H2Code.STREAM_CLOSED, "HEADERS on a closed stream");
    }
    ids.open(id); // ids skipped are closed without ever opening (RFC 9113 §5.1.1)
    if (this.#goaway || this.#peerGoaway) return this.#refuse(id, H2Code.REFUSED_STREAM);
    if (this.#streams.size >= this.#maxStreams) return this.#refuse(id, H2Code.REFUSED_STREAM);
    const s = new H2Stream(id, this.#streamWindow, this.#peer.initialWindowSize);
    this.#streams.set(id, s);
    s.recvOpen = !endStream;
    if (decoder.malformed !== null) throw streamError(H2Code.PROTOCOL_ERROR, id, decoder.malformed);
    if (decoder.oversize) return this.#answer(s, 431, TOO_LARGE_HEADERS, TOO_LARGE_BODY);
    const head = requestHead(fields);
    if (typeof head === "string") throw streamError(H2Code.PROTOCOL_ERROR, id, head);
    if (head.contentLength > 0 && endStream) throw streamError(H2Code.PROTOCOL_ERROR, id, "content-length without DATA");
    if (head.method === "CONNECT") return this.#answer(s, 405, CONNECT_HEADERS, CONNECT_BODY);
    s.contentLength = head.contentLength;
    s.delivered = true;
    this.#h.onRequest(id, head, endStream);
  }

  #trailers(s: H2Stream, endStream: boolean, fields: string[]): void {
    if (!s.recvOpen) throw streamError(H2Code.STREAM_CLOSED, s.id, "HEADERS after END_STREAM");
    if (!endStream) throw streamError(H2Code.PROTOCOL_ERROR, s.id, "trailers without END_STREAM");
    const problem = this.#decoder.malformed ?? (this.#decoder.oversize ? "trailers over the header list limit" : trailersProblem(fields));
    if (problem !== null) throw streamError(H2Code.PROTOCOL_ERROR, s.id, problem);
    if (s.contentLength >= 0 && s.received !== s.contentLength) throw streamError(H2Code.PROTOCOL_ERROR, s.id, "DATA disagrees with content-length");
    s.recvOpen = false;
    if (s.delivered) this.#h.onEnd(s.id, fields);
    this.#maybeClose(s);
  }

  /** The codec answers the stream itself (431, CONNECT): the application never sees it. */
  #answer(s: H2Stream, status: number, headers: readonly string[], body: Uint8Array): void {
    s.pendingAccept = false;
    this.#w.headers(s.id, status, headers, false);
    s.send = SEND_OPEN;
    this.#send.queue(s, body, true);
  }

  #rstStream(id: number, b: Uint8Array, start: number, end: number): void {
    if (end - start !== 4) throw connError(H2Code.FRAME_SIZE_ERROR, "RST_STREAM length not 4");
    if (id === 0) throw connError(H2Code.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (this.#ids.idle(id)) throw connError(H2Code.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
    const s = this.#streams.get(id);
    if (s === undefined) return this.#junkFrame();
    const code = u32(b, start);
    this.#remove(s);
    if (s.delivered && s.send !== SEND_DONE) this.#h.onReset(id, code);
    if (s.pendingAccept && this.#resets.reset()) throw connError(H2Code.ENHANCE_YOUR_CALM, "too many streams reset before their response");
  }

  #settings(flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (id !== 0) throw connError(H2Code.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (end !== start) throw connError(H2Code.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      this.#settingsAcked = true;
      return;
    }
    if (this.#control.hit(this.#now())) throw connError(H2Code.ENHANCE_YOUR_CALM, "SETTINGS flood");
    const before = this.#peer.initialWindowSize;
    readSettings(b, start, end, this.#peer);
    this.#w.maxFrameSize = this.#peer.maxFrameSize;
    this.#encoder.setPeerTableSize(this.#peer.headerTableSize);
    const delta = this.#peer.initialWindowSize - before;
    if (delta !== 0) {
      for (const s of this.#streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW) throw connError(H2Code.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE overflows a stream window");
      }
    }
    this.#w.settingsAck();
    if (delta > 0) this.#send.pumpAll(this.#streams.values());
  }

  #windowUpdateIn(id: number, b: Uint8Array, start: number, end: number): void {
    if (end - start !== 4) throw connError(H2Code.FRAME_SIZE_ERROR, "WINDOW_UPDATE length not 4");
    const increment = u32(b, start) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) throw connError(H2Code.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
      if (idleWindowUpdate(this.#send, increment)) this.#junkFrame();
      this.#send.window += increment;
      if (this.#send.window > MAX_WINDOW) throw connError(H2Code.FLOW_CONTROL_ERROR, "connection window over 2^31-1");
      return this.#send.pumpAll(this.#streams.values());
    }
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (this.#ids.idle(id)) throw connError(H2Code.PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
      return this.#junkFrame();
    }
    if (increment === 0) throw streamError(H2Code.PROTOCOL_ERROR, id, "WINDOW_UPDATE of 0");
    if (idleWindowUpdate(s, increment)) this.#junkFrame();
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW) throw streamError(H2Code.FLOW_CONTROL_ERROR, id, "stream window over 2^31-1");
    this.#send.pump(s);
  }

  // --- application side -----------------------------------------------------------------------

  /**
   * Sends the response head on `streamId` (a 1xx `status` may precede the final one). `headers`
   * is `[name, value, …]` with lower-case names; connection-specific fields must not be among
   * them. Returns false when the stream is gone (reset) or already answered.
   */
  respond(streamId: number, status: number, headers: readonly string[], endStream = false): boolean {
    const s = this.#streams.get(streamId);
    if (s === undefined || s.send !== SEND_IDLE || this.#closed) return false;
    if (this.#peer.maxHeaderListSize !== Infinity && fieldSectionSize(headers, true) > this.#peer.maxHeaderListSize) {
      // An informational response is optional: left out. A final one the peer would refuse
      // ends the stream with RST_STREAM INTERNAL_ERROR, as nghttp2 resets a response head it
      // cannot send.
      if (status < 200) return true;
      return this.#tooLarge(s);
    }
    if (status < 200) {
      this.#w.headers(streamId, status, headers, false);
    } else {
      this.#w.headers(streamId, status, headers, endStream);
      s.send = endStream ? SEND_DONE : SEND_OPEN;
      if (endStream) this.#responseDone(s);
    }
    this.#flushSoon();
    return true;
  }

  /**
   * Queues response body bytes (the connection keeps `bytes` until they are written: do not
   * change them). `end` ends the response. Returns false once the stream's queue holds more
   * than `maxSendBufSize` octets: wait for `onDrain` before sending more. Writes to a stream
   * that is gone are dropped (the handler had `onReset`).
   */
  sendData(streamId: number, bytes: Uint8Array, end = false): boolean {
    const s = this.#streams.get(streamId);
    if (s === undefined || s.send !== SEND_OPEN || this.#closed) return true;
    this.#send.queue(s, bytes, end);
    this.#flushSoon();
    if (s.backlogBytes > this.#maxSendBuf) {
      s.wantDrain = true;
      return false;
    }
    return true;
  }

  /** Ends the response with a trailer section (`[name, value, …]`), after the queued DATA. */
  sendTrailers(streamId: number, trailers: readonly string[]): boolean {
    const s = this.#streams.get(streamId);
    if (s === undefined || s.send !== SEND_OPEN || this.#closed) return false;
    if (this.#peer.maxHeaderListSize !== Infinity && fieldSectionSize(trailers, false) > this.#peer.maxHeaderListSize) return this.#tooLarge(s);
    s.trailers = trailers;
    this.#send.queue(s, null, true);
    this.#flushSoon();
    return true;
  }

  /**
   * A response field section over the peer's SETTINGS_MAX_HEADER_LIST_SIZE: RST_STREAM
   * INTERNAL_ERROR, `onReset(id, INTERNAL_ERROR)`, and false for the caller.
   */
  #tooLarge(s: H2Stream): false {
    this.#w.rst(s.id, H2Code.INTERNAL_ERROR);
    this.#ids.markReset(s.id);
    this.#remove(s);
    this.#flushSoon();
    this.#h.onReset(s.id, H2Code.INTERNAL_ERROR);
    return false;
  }

  /** Resets `streamId` with `code` (RST_STREAM); the stream is forgotten. */
  reset(streamId: number, code: number = H2Code.CANCEL): void {
    const s = this.#streams.get(streamId);
    if (s === undefined || this.#closed) return;
    this.#w.rst(streamId, code);
    this.#remove(s);
    this.#ids.markReset(streamId);
    this.#flushSoon();
  }

  /** The application is done with `n` octets of `streamId`'s body: their window goes back to the peer. */
  consume(streamId: number, n: number): void {
    const s = this.#streams.get(streamId);
    if (s === undefined || n <= 0) return;
    s.outstanding -= n;
    this.#consumed(s, n);
    this.#flushSoon();
  }

  /** The socket can take more (`true`) or its buffer is full (`false`): DATA waits while it is full. */
  setWritable(writable: boolean): void {
    this.#send.writable = writable;
    if (writable && !this.#closed) {
      this.#send.pumpAll(this.#streams.values());
      this.#flushSoon();
    }
  }

  /** Sends a PING (keep-alive); the answer comes to `onPingAck`. */
  ping(payload: Uint8Array = new Uint8Array(8)): void {
    if (this.#closed) return;
    this.#w.ping(payload, 0, false);
    this.#flushSoon();
  }

  /**
   * GOAWAY with the last stream id seen: streams already open finish, newer ones are refused.
   * With NO_ERROR the connection closes (`onClose(null)`) once the last stream ends; with
   * another code at once.
   */
  goaway(code: number = H2Code.NO_ERROR, debug = ""): void {
    if (this.#closed) return;
    if (code !== H2Code.NO_ERROR) return this.#fail(connError(code, debug || "closed by the server"), debug);
    if (!this.#goaway) {
      this.#goaway = true;
      this.#w.goaway(this.#ids.last, code, debug);
    }
    if (this.#streams.size === 0) this.#finish();
    this.#flushSoon();
  }

  // --- streams ---------------------------------------------------------------------------------

  /**
   * A stream error: RST_STREAM with its code. A stream whose handler is still at work counts
   * against the rapid-reset budget like a reset from the peer (a peer provoking resets with
   * invalid frames must not get more work done than one sending RST_STREAM); one refused before
   * the application saw it counts as a frame that does no work.
   */
  #streamFailed(error: H2Error): void {
    const s = this.#streams.get(error.streamId);
    this.#w.rst(error.streamId, error.code);
    this.#ids.markReset(error.streamId);
    if (s === undefined || !s.delivered) {
      if (s !== undefined) this.#remove(s);
      return this.#junkFrame();
    }
    this.#remove(s);
    if (s.send !== SEND_DONE) this.#h.onReset(s.id, error.code);
    if (s.pendingAccept && this.#resets.reset()) throw connError(H2Code.ENHANCE_YOUR_CALM, "too many streams reset before their response");
  }

  /** A stream refused before it opened (REFUSED_STREAM): counted as a frame that does no work. */
  #refuse(id: number, code: number): void {
    this.#w.rst(id, code);
    this.#ids.markReset(id);
    this.#junkFrame();
  }

  #maybeClose(s: H2Stream): void {
    if (!s.recvOpen && s.send === SEND_DONE) this.#remove(s);
  }

  /**
   * The response is complete. When the request is still arriving, the rest is not wanted:
   * RST_STREAM NO_ERROR asks the client to stop sending (RFC 9113 §8.1), the application is
   * told with `onReset(id, NO_ERROR)`, and the stream's unread octets go back to the connection.
   */
  #responseDone(s: H2Stream): void {
    if (s.pendingAccept) {
      s.pendingAccept = false;
      this.#resets.completed();
    }
    if (!s.recvOpen) return this.#remove(s);
    this.#w.rst(s.id, H2Code.NO_ERROR);
    this.#ids.markReset(s.id);
    this.#remove(s);
    if (s.delivered) this.#h.onReset(s.id, H2Code.NO_ERROR);
  }

  #remove(s: H2Stream): void {
    if (!this.#streams.delete(s.id)) return;
    // Body octets the application will never consume give the connection window back.
    if (s.outstanding > 0) this.#credit(s.outstanding);
    s.outstanding = 0;
    s.backlog.length = 0;
    s.backlogBytes = 0;
    this.#send.forget(s);
    if ((this.#goaway || this.#peerGoaway) && this.#streams.size === 0) this.#finish();
  }

  /** `n` octets of `s` are done with: return them to both windows once half a window has built up. */
  #consumed(s: H2Stream, n: number): void {
    this.#credit(n);
    if (!s.recvOpen) return;
    s.unacked += n;
    if (s.unacked >= this.#streamWindow >>> 1) {
      this.#w.windowUpdate(s.id, s.unacked);
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
  }

  /** `n` octets of the connection window are done with. */
  #credit(n: number): void {
    this.#connUnacked += n;
    if (this.#connUnacked >= this.#connWindow >>> 1) {
      this.#w.windowUpdate(0, this.#connUnacked);
      this.#connRecvWindow += this.#connUnacked;
      this.#connUnacked = 0;
    }
  }

  // --- output ----------------------------------------------------------------------------------

  #flushSoon(): void {
    if (!this.#inReceive) this.#flush();
  }

  #flush(): void {
    const bytes = this.#w.take();
    if (bytes !== null) this.#h.write(bytes);
  }

  // --- the end ---------------------------------------------------------------------------------

  /** Graceful end: every stream finished after a GOAWAY (ours or the peer's). */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    this.#h.onClose(null);
  }

  /** Connection error: GOAWAY with its code, every stream ends, then `onClose(error)`. */
  #fail(error: H2Error, debug = error.message): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#w.goaway(this.#ids.last, error.code, debug);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#send.clear();
    this.#flush();
    for (const s of streams) if (s.delivered && s.send !== SEND_DONE) this.#h.onReset(s.id, error.code);
    this.#h.onClose(error);
  }
}
