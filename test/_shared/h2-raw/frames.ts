// Frame encoders (RFC 9113 §6), written exactly as asked, and decoders of received frame payloads.
import { bytes, EMPTY } from "./bytes.ts";
import { Flag, FrameType, frameTypeName } from "./constants.ts";

/**
 * The 9-octet frame header alone. `length` is written as given (it may lie about the payload),
 * and `streamId` is written as a raw 32-bit value, so a test can set the reserved bit.
 */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(length & 0xffffff, 0, 3);
  h[3] = type & 0xff;
  h[4] = flags & 0xff;
  h.writeUInt32BE(streamId >>> 0, 5);
  return h;
}

/** A complete frame: header (with the payload's real length) followed by the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer | Uint8Array | string = EMPTY): Buffer {
  const body = bytes(payload);
  if (body.length > 0xffffff) throw new RangeError(`frame payload of ${body.length} octets exceeds 2^24-1`);
  return Buffer.concat([frameHeader(body.length, type, flags, streamId), body]);
}

/** A SETTINGS frame (stream 0) carrying `[identifier, value]` pairs in order. */
export function settings(entries: [number, number][] = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id & 0xffff, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

/** An empty SETTINGS frame with the ACK flag. */
export function settingsAck(): Buffer {
  return frame(FrameType.SETTINGS, Flag.ACK, 0, EMPTY);
}

/** A PING frame (stream 0). The payload should be 8 octets; it is not checked. */
export function ping(payload8: Buffer | Uint8Array = Buffer.alloc(8), ack = false): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload8);
}

/** An RST_STREAM frame with the given error code. */
export function rstStream(id: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code >>> 0, 0);
  return frame(FrameType.RST_STREAM, 0, id, payload);
}

/** A GOAWAY frame (stream 0): last stream id, error code and optional UTF-8 debug data. */
export function goaway(lastId: number, code: number, debug: string | Buffer = ""): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(lastId >>> 0, 0);
  head.writeUInt32BE(code >>> 0, 4);
  return frame(FrameType.GOAWAY, 0, 0, Buffer.concat([head, typeof debug === "string" ? Buffer.from(debug, "utf8") : debug]));
}

/** A WINDOW_UPDATE frame (stream 0 = connection window). An increment of 0 is allowed (it is a protocol error). */
export function windowUpdate(id: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment >>> 0, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, id, payload);
}

/** A DATA frame; strings are sent as latin1 (one char per octet). */
export function data(id: number, payload: Buffer | Uint8Array | string, endStream = false): Buffer {
  return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, id, payload);
}

/** Options of {@link headers}. */
export interface HeadersFrameOptions {
  /** Set END_STREAM (default false). */
  endStream?: boolean;
  /** Set END_HEADERS (default true); false means CONTINUATION frames must follow. */
  endHeaders?: boolean;
  /** Add the PADDED flag with this many zero octets of padding. */
  padLength?: number;
  /** Add the PRIORITY flag with these fields (weight is the wire value 0–255, i.e. weight-1). */
  priority?: { dependency: number; weight: number; exclusive?: boolean };
}

/** A HEADERS frame carrying a (fragment of an) HPACK header block. */
export function headers(id: number, block: Buffer, opts: HeadersFrameOptions = {}): Buffer {
  let flags = 0;
  if (opts.endStream ?? false) flags |= Flag.END_STREAM;
  if (opts.endHeaders ?? true) flags |= Flag.END_HEADERS;
  const parts: Buffer[] = [];
  if (opts.padLength !== undefined) {
    flags |= Flag.PADDED;
    parts.push(Buffer.from([opts.padLength & 0xff]));
  }
  if (opts.priority !== undefined) {
    flags |= Flag.PRIORITY;
    const p = Buffer.alloc(5);
    p.writeUInt32BE(((opts.priority.exclusive ?? false) ? 0x80000000 : 0) + (opts.priority.dependency & 0x7fffffff), 0);
    p[4] = opts.priority.weight & 0xff;
    parts.push(p);
  }
  parts.push(block);
  if (opts.padLength !== undefined) parts.push(Buffer.alloc(opts.padLength));
  return frame(FrameType.HEADERS, flags, id, Buffer.concat(parts));
}

/** A CONTINUATION frame carrying the next fragment of a header block. */
export function continuation(id: number, block: Buffer, endHeaders: boolean): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, id, block);
}

// Decoders of received frame payloads

/** One received frame. `payload` is the raw payload (padding and priority fields included). */
export interface Frame {
  type: number;
  flags: number;
  /** Stream identifier with the reserved bit cleared. */
  streamId: number;
  /** Payload length from the frame header (equals payload.length). */
  length: number;
  payload: Buffer;
}

/** A parsed GOAWAY payload. */
export interface GoawayInfo {
  lastStreamId: number;
  errorCode: number;
  /** Additional debug data, decoded as UTF-8. */
  debug: string;
}

/** Parses a SETTINGS payload into identifier → value (a later duplicate wins, as in RFC 9113). */
export function parseSettings(payload: Buffer): Map<number, number> {
  if (payload.length % 6 !== 0) throw new RangeError(`SETTINGS payload length ${payload.length} is not a multiple of 6`);
  const out = new Map<number, number>();
  for (let i = 0; i + 6 <= payload.length; i += 6) out.set(payload.readUInt16BE(i), payload.readUInt32BE(i + 2));
  return out;
}

/** Parses a GOAWAY payload. */
export function parseGoaway(payload: Buffer): GoawayInfo {
  if (payload.length < 8) throw new RangeError(`GOAWAY payload of ${payload.length} octets is shorter than 8`);
  return {
    lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
    errorCode: payload.readUInt32BE(4),
    debug: payload.subarray(8).toString("utf8"),
  };
}

/** Parses an RST_STREAM payload into its error code. */
export function parseRstStream(payload: Buffer): number {
  if (payload.length !== 4) throw new RangeError(`RST_STREAM payload of ${payload.length} octets, expected 4`);
  return payload.readUInt32BE(0);
}

/** Strips the Pad Length octet and padding of a PADDED frame payload. */
export function unpad(f: Frame): Buffer {
  if ((f.flags & Flag.PADDED) === 0) return f.payload;
  const pad = f.payload[0];
  if (pad === undefined || pad + 1 > f.payload.length) throw new RangeError(`${frameTypeName(f.type)} padding ${pad ?? "?"} exceeds payload of ${f.payload.length}`);
  return f.payload.subarray(1, f.payload.length - pad);
}
