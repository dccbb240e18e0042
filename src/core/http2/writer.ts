/**
 * The frames a server writes, gathered in one growing buffer until the connection flushes them
 * (one write per read of the socket, or sooner past a size).
 */

import { Flag, FrameType, writeFrameHeader } from "./frames.ts";
import { encodedBound, type HpackEncoder } from "./hpack.ts";

/** Octets gathered before a flush is due even in the middle of a read. */
export const FLUSH_AT = 64 * 1024;

/** Output of one connection: frames appended in order, taken as one array. */
export class FrameWriter {
  /** The buffer; frames occupy `[0, length)`. Writers may fill room they got from {@link reserve}. */
  out = new Uint8Array(16 * 1024);
  length = 0;
  readonly #encoder: HpackEncoder;
  /** The peer's SETTINGS_MAX_FRAME_SIZE: header blocks past it continue in CONTINUATION frames. */
  maxFrameSize = 16_384;

  constructor(encoder: HpackEncoder) {
    this.#encoder = encoder;
  }

  /** Makes room for `n` more octets; returns where they start. */
  reserve(n: number): number {
    const at = this.length;
    if (at + n > this.out.length) {
      const grown = new Uint8Array(Math.max(this.out.length * 2, at + n));
      grown.set(this.out.subarray(0, at));
      this.out = grown;
    }
    return at;
  }

  /** The octets gathered, as a new array (the caller may keep it), or null when there are none. */
  take(): Uint8Array | null {
    if (this.length === 0) return null;
    const bytes = this.out.slice(0, this.length);
    this.length = 0;
    // A buffer grown for a large header block goes back to its usual size.
    if (this.out.length > 4 * FLUSH_AT) this.out = new Uint8Array(16 * 1024);
    return bytes;
  }

  #u32(p: number, v: number): void {
    const o = this.out;
    o[p] = v >>> 24;
    o[p + 1] = (v >>> 16) & 0xff;
    o[p + 2] = (v >>> 8) & 0xff;
    o[p + 3] = v & 0xff;
  }

  /** A SETTINGS frame with `[identifier, value]` pairs. */
  settings(entries: readonly (readonly [number, number])[]): void {
    const at = this.reserve(9 + entries.length * 6);
    writeFrameHeader(this.out, at, entries.length * 6, FrameType.SETTINGS, 0, 0);
    let p = at + 9;
    for (const [id, value] of entries) {
      this.out[p] = id >>> 8;
      this.out[p + 1] = id & 0xff;
      this.#u32(p + 2, value);
      p += 6;
    }
    this.length = p;
  }

  /** An empty SETTINGS frame with ACK. */
  settingsAck(): void {
    const at = this.reserve(9);
    writeFrameHeader(this.out, at, 0, FrameType.SETTINGS, Flag.ACK, 0);
    this.length = at + 9;
  }

  /** A response header block (HEADERS, CONTINUATION past the peer's frame size). */
  headers(id: number, status: number, headers: readonly string[], endStream: boolean): void {
    const bound = encodedBound(headers);
    const at = this.reserve(9 + bound + 9 * Math.ceil(bound / this.maxFrameSize));
    const end = this.#encoder.encodeInto(status, headers, this.out, at + 9);
    this.#block(id, at, end - at - 9, endStream);
  }

  /** A trailer section, which ends the stream. */
  trailers(id: number, trailers: readonly string[]): void {
    let bound = 16;
    for (let i = 0; i < trailers.length; i++) bound += trailers[i]!.length + 6;
    const at = this.reserve(9 + bound + 9 * Math.ceil(bound / this.maxFrameSize));
    let p = at + 9;
    for (let i = 0; i < trailers.length; i += 2) p = this.#encoder.field(trailers[i]!, trailers[i + 1]!, this.out, p);
    this.#block(id, at, p - at - 9, true);
  }

  /** Frames a header block already encoded at `at + 9`: HEADERS, then CONTINUATION frames past the peer's frame size. */
  #block(id: number, at: number, length: number, endStream: boolean): void {
    const max = this.maxFrameSize;
    const es = endStream ? Flag.END_STREAM : 0;
    if (length <= max) {
      writeFrameHeader(this.out, at, length, FrameType.HEADERS, es | Flag.END_HEADERS, id);
      this.length = at + 9 + length;
      return;
    }
    // Split: each part moves right to make room for the frame headers before it.
    const block = this.out.slice(at + 9, at + 9 + length);
    let p = at;
    for (let off = 0; off < length; off += max) {
      const n = Math.min(max, length - off);
      const last = off + n === length;
      writeFrameHeader(this.out, p, n, off === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, (off === 0 ? es : 0) | (last ? Flag.END_HEADERS : 0), id);
      this.out.set(block.subarray(off, off + n), p + 9);
      p += 9 + n;
    }
    this.length = p;
  }

  /** A DATA frame header for `n` octets; returns where the payload goes (the caller copies it and sets {@link length}). */
  dataHeader(id: number, n: number, endStream: boolean): number {
    const at = this.reserve(9 + n);
    writeFrameHeader(this.out, at, n, FrameType.DATA, endStream ? Flag.END_STREAM : 0, id);
    return at + 9;
  }

  /** A DATA frame carrying `bytes` whole. */
  data(id: number, bytes: Uint8Array, endStream: boolean): void {
    const p = this.dataHeader(id, bytes.length, endStream);
    this.out.set(bytes, p);
    this.length = p + bytes.length;
  }

  rst(id: number, code: number): void {
    const at = this.reserve(13);
    writeFrameHeader(this.out, at, 4, FrameType.RST_STREAM, 0, id);
    this.#u32(at + 9, code);
    this.length = at + 13;
  }

  windowUpdate(id: number, increment: number): void {
    const at = this.reserve(13);
    writeFrameHeader(this.out, at, 4, FrameType.WINDOW_UPDATE, 0, id);
    this.#u32(at + 9, increment);
    this.length = at + 13;
  }

  /** A PING (or its ACK) with the 8 octets at `b[start]`. */
  ping(b: Uint8Array, start: number, ack: boolean): void {
    const at = this.reserve(17);
    writeFrameHeader(this.out, at, 8, FrameType.PING, ack ? Flag.ACK : 0, 0);
    this.out.set(b.subarray(start, start + 8), at + 9);
    this.length = at + 17;
  }

  /** GOAWAY with the last stream id, the code, and `debug` (ASCII, at most 256 characters). */
  goaway(lastStreamId: number, code: number, debug: string): void {
    const text = debug.length > 256 ? debug.slice(0, 256) : debug;
    const at = this.reserve(17 + text.length);
    writeFrameHeader(this.out, at, 8 + text.length, FrameType.GOAWAY, 0, 0);
    this.#u32(at + 9, lastStreamId);
    this.#u32(at + 13, code);
    for (let i = 0; i < text.length; i++) this.out[at + 17 + i] = text.charCodeAt(i) & 0x7f;
    this.length = at + 17 + text.length;
  }
}
