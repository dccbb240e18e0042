/** HTTP/2 frame layout (RFC 9113 §4, §6): types, flags, settings, and the 9-octet header. */

import { connError, H2Code } from "./errors.ts";

/** Frame types (RFC 9113 §6). */
export const FrameType = Object.freeze({
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
});

/** Frame flags (ACK and END_STREAM share a bit, on different frame types). */
export const Flag = Object.freeze({ END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 });

/** SETTINGS identifiers (RFC 9113 §6.5.2). */
export const Setting = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
});

/** The protocol's default and smallest SETTINGS_MAX_FRAME_SIZE; also ours. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
/** The largest flow-control window (RFC 9113 §6.9.1). */
export const MAX_WINDOW = 2 ** 31 - 1;
/** The initial flow-control window of a connection and of streams before SETTINGS change it. */
export const DEFAULT_WINDOW = 65_535;

/** Writes a frame header into `out` at `pos`. */
export function writeFrameHeader(out: Uint8Array, pos: number, length: number, type: number, flags: number, streamId: number): void {
  out[pos] = length >>> 16;
  out[pos + 1] = (length >>> 8) & 0xff;
  out[pos + 2] = length & 0xff;
  out[pos + 3] = type;
  out[pos + 4] = flags;
  out[pos + 5] = (streamId >>> 24) & 0x7f;
  out[pos + 6] = (streamId >>> 16) & 0xff;
  out[pos + 7] = (streamId >>> 8) & 0xff;
  out[pos + 8] = streamId & 0xff;
}

/** A 32-bit big-endian unsigned integer at `pos`. */
export function u32(b: Uint8Array, pos: number): number {
  return ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
}

/** The peer's settings the server acts on. */
export interface PeerSettings {
  headerTableSize: number;
  initialWindowSize: number;
  maxFrameSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: the field sections the peer accepts (Infinity until it says). */
  maxHeaderListSize: number;
}

/**
 * The size RFC 9113 §6.5.2 gives a field section `[name, value, …]`: name and value octets plus
 * 32 per field, with `:status` (three digits) when `status` is set.
 */
export function fieldSectionSize(fields: readonly string[], status: boolean): number {
  let n = status ? 7 + 3 + 32 : 0;
  for (let i = 0; i < fields.length; i++) n += fields[i]!.length;
  return n + 16 * fields.length; // 32 per name-value pair
}

/**
 * Reads a non-ACK SETTINGS payload `b[start, end)` into `into`, checking each value (RFC 9113
 * §6.5.2): ENABLE_PUSH other than 0 or 1 and MAX_FRAME_SIZE out of range are PROTOCOL_ERROR,
 * INITIAL_WINDOW_SIZE over 2^31-1 is FLOW_CONTROL_ERROR. Unknown identifiers are ignored.
 */
export function readSettings(b: Uint8Array, start: number, end: number, into: PeerSettings): void {
  if ((end - start) % 6 !== 0) throw connError(H2Code.FRAME_SIZE_ERROR, "SETTINGS length not a multiple of 6");
  for (let p = start; p < end; p += 6) {
    const id = (b[p]! << 8) | b[p + 1]!;
    const value = u32(b, p + 2);
    switch (id) {
      case Setting.HEADER_TABLE_SIZE:
        into.headerTableSize = value;
        break;
      case Setting.ENABLE_PUSH:
        if (value > 1) throw connError(H2Code.PROTOCOL_ERROR, "ENABLE_PUSH not 0 or 1");
        break;
      case Setting.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW) throw connError(H2Code.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE over 2^31-1");
        into.initialWindowSize = value;
        break;
      case Setting.MAX_FRAME_SIZE:
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) throw connError(H2Code.PROTOCOL_ERROR, "MAX_FRAME_SIZE out of range");
        into.maxFrameSize = value;
        break;
      case Setting.MAX_HEADER_LIST_SIZE:
        into.maxHeaderListSize = value;
        break;
      default:
        break;
    }
  }
}
