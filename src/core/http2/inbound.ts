/**
 * The frames a client sends, checked against RFC 9113 §4–§6 and §8 and applied to the
 * connection's state: a stream error is thrown as an {@link H2Error} with its stream id (the
 * connection answers RST_STREAM), a connection error with stream id 0 (GOAWAY). Header blocks
 * are gathered across CONTINUATION frames up to a bound, decoded in order (HPACK state), and
 * become requests, trailers, or the codec's own answers (431, 405 for CONNECT).
 */

import { connError, H2Code, streamError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_SIZE, Flag, FrameType, MAX_WINDOW, readSettings, u32 } from "./frames.ts";
import type { H2ConnectionOptions, H2Handler } from "./handler.ts";
import { requestHead, trailersProblem } from "./request.ts";
import { ConnectionState } from "./state.ts";
import { H2Stream, idleWindowUpdate, SEND_DONE, SEND_OPEN } from "./stream.ts";

const TOO_LARGE_BODY = Uint8Array.from("Request Header Fields Too Large", (c) => c.charCodeAt(0));
const TOO_LARGE_HEADERS = ["content-type", "text/plain; charset=utf-8", "content-length", String(TOO_LARGE_BODY.length)];
const CONNECT_BODY = Uint8Array.from("Method Not Allowed", (c) => c.charCodeAt(0));
const CONNECT_HEADERS = ["content-type", "text/plain; charset=utf-8", "content-length", String(CONNECT_BODY.length)];

/** A connection's state with the rules for the frames its peer sends. */
export class H2Inbound extends ConnectionState {
  readonly #maxBlock: number;
  #settingsSeen = false;
  // Header block in progress (HEADERS without END_HEADERS, then CONTINUATION).
  #blockStream = 0;
  #blockEndStream = false;
  #blockSelfDependent = false;
  #block: Uint8Array | null = null;
  #blockLen = 0;

  constructor(handler: H2Handler, options: H2ConnectionOptions) {
    super(handler, options);
    // A block may take more octets than the list it decodes to (Huffman codes of rare octets are
    // long); past twice the list limit plus a frame it is abuse.
    this.#maxBlock = this.maxList * 2 + DEFAULT_MAX_FRAME_SIZE;
  }

  /** One complete frame, `b[start, end)` its payload. */
  frame(type: number, flags: number, id: number, b: Uint8Array, start: number, end: number): void {
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
        return this.junkFrame();
      case FrameType.RST_STREAM:
        return this.#rstStream(id, b, start, end);
      case FrameType.SETTINGS:
        return this.#settings(flags, id, b, start, end);
      case FrameType.PUSH_PROMISE:
        throw connError(H2Code.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
      case FrameType.PING:
        if (id !== 0) throw connError(H2Code.PROTOCOL_ERROR, "PING on a stream");
        if (end - start !== 8) throw connError(H2Code.FRAME_SIZE_ERROR, "PING length not 8");
        if (flags & Flag.ACK) return this.h.onPingAck?.(b.subarray(start, end));
        if (this.control.hit(this.now())) throw connError(H2Code.ENHANCE_YOUR_CALM, "PING flood");
        return this.w.ping(b, start, true);
      case FrameType.GOAWAY:
        if (id !== 0) throw connError(H2Code.PROTOCOL_ERROR, "GOAWAY on a stream");
        if (end - start < 8) throw connError(H2Code.FRAME_SIZE_ERROR, "GOAWAY shorter than 8");
        this.peerGoaway = true;
        if (this.streams.size === 0) this.finish();
        return;
      case FrameType.WINDOW_UPDATE:
        return this.#windowUpdateIn(id, b, start, end);
      case FrameType.CONTINUATION:
        return this.#continuation(flags, id, b, start, end);
      default:
        return this.junkFrame(); // unknown frame types are ignored (RFC 9113 §4.1), counted
    }
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
    if (length > this.connRecvWindow) throw connError(H2Code.FLOW_CONTROL_ERROR, "DATA over the connection window");
    this.connRecvWindow -= length;
    const s = this.streams.get(id);
    if (s === undefined || !s.recvOpen) {
      this.credit(length);
      if (s !== undefined) throw streamError(H2Code.STREAM_CLOSED, id, "DATA after END_STREAM");
      const ids = this.ids;
      // In flight when we reset the stream (RFC 9113 §5.4.2 lets it arrive): flow control bounds
      // DATA that carries octets, so only an empty one counts as a frame that does no work.
      if (ids.wasReset(id)) return length === 0 ? this.junkFrame() : undefined;
      if (ids.idle(id) || ids.wasSkipped(id)) throw connError(H2Code.PROTOCOL_ERROR, "DATA on a stream never opened");
      // Reset by the client (RFC 9113 §5.1), or closed too long ago to know whether we reset it
      // (as Go's and hyper's servers answer): a stream error, counted as a frame that does no work.
      if (ids.wasPeerReset(id) || ids.forgotten(id)) throw streamError(H2Code.STREAM_CLOSED, id, "DATA on a closed stream");
      throw connError(H2Code.STREAM_CLOSED, "DATA on a closed stream");
    }
    if (length > s.recvWindow) {
      this.credit(length);
      throw streamError(H2Code.FLOW_CONTROL_ERROR, id, "DATA over the stream window");
    }
    s.recvWindow -= length;
    const size = dataEnd - dataStart;
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (size === 0 && !endStream) this.junkFrame();
    s.received += size;
    if (s.contentLength >= 0 && (s.received > s.contentLength || (endStream && s.received !== s.contentLength))) {
      this.credit(length);
      throw streamError(H2Code.PROTOCOL_ERROR, id, "DATA disagrees with content-length");
    }
    // Padding is consumed at once; the data when the application says so.
    if (length > size) this.consumed(s, length - size);
    if (size > 0) {
      if (s.delivered) {
        s.outstanding += size;
        this.h.onData(id, b.subarray(dataStart, dataEnd));
      } else this.consumed(s, size);
    }
    if (endStream) {
      s.recvOpen = false;
      if (s.delivered) this.h.onEnd(id, null);
      this.maybeClose(s);
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
    if (e - p === 0) this.junkFrame();
    this.#blockStream = id;
    this.#blockEndStream = endStream;
    this.#blockSelfDependent = selfDependent;
    this.#blockLen = 0;
    this.#appendBlock(b, p, e);
  }

  #continuation(flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (this.#blockStream === 0 || id !== this.#blockStream) throw connError(H2Code.PROTOCOL_ERROR, "CONTINUATION without a header block on its stream");
    if (end === start && (flags & Flag.END_HEADERS) === 0) this.junkFrame();
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
    const fields = this.decoder.decode(b, start, end, this.maxList);
    const decoder = this.decoder;
    const ids = this.ids;
    if (selfDependent) {
      if (id > ids.last && (id & 1) === 1) ids.open(id);
      throw streamError(H2Code.PROTOCOL_ERROR, id, "stream depends on itself");
    }
    const existing = this.streams.get(id);
    if (existing !== undefined) return this.#trailers(existing, endStream, fields);
    if ((id & 1) === 0) throw connError(H2Code.PROTOCOL_ERROR, "even stream id from a client");
    if (id <= ids.last) {
      if (ids.wasReset(id)) return; // trailers of a stream we reset: ignored
      if (ids.wasSkipped(id)) throw connError(H2Code.PROTOCOL_ERROR, "stream id lower than one already used");
      if (ids.wasPeerReset(id) || ids.forgotten(id)) throw streamError(H2Code.STREAM_CLOSED, id, "HEADERS on a closed stream");
      throw connError(H2Code.STREAM_CLOSED, "HEADERS on a closed stream");
    }
    ids.open(id); // ids skipped are closed without ever opening (RFC 9113 §5.1.1)
    if (this.goingAway || this.peerGoaway) return this.refuse(id, H2Code.REFUSED_STREAM);
    if (this.streams.size >= this.maxStreams) return this.refuse(id, H2Code.REFUSED_STREAM);
    const s = new H2Stream(id, this.streamWindow, this.peer.initialWindowSize);
    this.streams.set(id, s);
    s.recvOpen = !endStream;
    if (decoder.malformed !== null) throw streamError(H2Code.PROTOCOL_ERROR, id, decoder.malformed);
    if (decoder.oversize) return this.#answer(s, 431, TOO_LARGE_HEADERS, TOO_LARGE_BODY);
    const head = requestHead(fields);
    if (typeof head === "string") throw streamError(H2Code.PROTOCOL_ERROR, id, head);
    if (head.contentLength > 0 && endStream) throw streamError(H2Code.PROTOCOL_ERROR, id, "content-length without DATA");
    if (head.method === "CONNECT") return this.#answer(s, 405, CONNECT_HEADERS, CONNECT_BODY);
    s.contentLength = head.contentLength;
    s.delivered = true;
    this.h.onRequest(id, head, endStream);
  }

  #trailers(s: H2Stream, endStream: boolean, fields: string[]): void {
    if (!s.recvOpen) throw streamError(H2Code.STREAM_CLOSED, s.id, "HEADERS after END_STREAM");
    if (!endStream) throw streamError(H2Code.PROTOCOL_ERROR, s.id, "trailers without END_STREAM");
    const problem = this.decoder.malformed ?? (this.decoder.oversize ? "trailers over the header list limit" : trailersProblem(fields));
    if (problem !== null) throw streamError(H2Code.PROTOCOL_ERROR, s.id, problem);
    if (s.contentLength >= 0 && s.received !== s.contentLength) throw streamError(H2Code.PROTOCOL_ERROR, s.id, "DATA disagrees with content-length");
    s.recvOpen = false;
    if (s.delivered) this.h.onEnd(s.id, fields);
    this.maybeClose(s);
  }

  /** The codec answers the stream itself (431, CONNECT): the application never sees it. */
  #answer(s: H2Stream, status: number, headers: readonly string[], body: Uint8Array): void {
    s.pendingAccept = false;
    this.w.headers(s.id, status, headers, false);
    s.send = SEND_OPEN;
    this.send.queue(s, body, true);
  }

  #rstStream(id: number, b: Uint8Array, start: number, end: number): void {
    if (end - start !== 4) throw connError(H2Code.FRAME_SIZE_ERROR, "RST_STREAM length not 4");
    if (id === 0) throw connError(H2Code.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (this.ids.idle(id)) throw connError(H2Code.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
    const s = this.streams.get(id);
    if (s === undefined) return this.junkFrame();
    const code = u32(b, start);
    this.remove(s);
    this.ids.markPeerReset(id);
    if (s.delivered && s.send !== SEND_DONE) this.h.onReset(id, code);
    if (s.pendingAccept && this.resets.reset()) throw connError(H2Code.ENHANCE_YOUR_CALM, "too many streams reset before their response");
  }

  #settings(flags: number, id: number, b: Uint8Array, start: number, end: number): void {
    if (id !== 0) throw connError(H2Code.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (end !== start) throw connError(H2Code.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      this.settingsAcked = true;
      return;
    }
    if (this.control.hit(this.now())) throw connError(H2Code.ENHANCE_YOUR_CALM, "SETTINGS flood");
    const before = this.peer.initialWindowSize;
    readSettings(b, start, end, this.peer);
    this.w.maxFrameSize = this.peer.maxFrameSize;
    this.encoder.setPeerTableSize(this.peer.headerTableSize);
    const delta = this.peer.initialWindowSize - before;
    if (delta !== 0) {
      for (const s of this.streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW) throw connError(H2Code.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE overflows a stream window");
      }
    }
    this.w.settingsAck();
    if (delta > 0) this.send.pumpAll(this.streams.values());
  }

  #windowUpdateIn(id: number, b: Uint8Array, start: number, end: number): void {
    if (end - start !== 4) throw connError(H2Code.FRAME_SIZE_ERROR, "WINDOW_UPDATE length not 4");
    const increment = u32(b, start) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) throw connError(H2Code.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
      if (idleWindowUpdate(this.send, increment)) this.junkFrame();
      this.send.window += increment;
      if (this.send.window > MAX_WINDOW) throw connError(H2Code.FLOW_CONTROL_ERROR, "connection window over 2^31-1");
      return this.send.pumpAll(this.streams.values());
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (this.ids.idle(id)) throw connError(H2Code.PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
      return this.junkFrame();
    }
    if (increment === 0) throw streamError(H2Code.PROTOCOL_ERROR, id, "WINDOW_UPDATE of 0");
    if (idleWindowUpdate(s, increment)) this.junkFrame();
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW) throw streamError(H2Code.FLOW_CONTROL_ERROR, id, "stream window over 2^31-1");
    this.send.pump(s);
  }
}
