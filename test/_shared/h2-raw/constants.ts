// Protocol constants of RFC 9113 (preface, frame types, flags, error codes, settings) and their names.

/** The 24-octet client connection preface (RFC 9113 §3.4). */
export const PREFACE: Buffer = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Frame type codes (RFC 9113 §6). */
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

/** Frame flags (RFC 9113 §6). ACK and END_STREAM share the bit 0x1 (on different frame types). */
export const Flag = Object.freeze({
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
});

/** Error codes for RST_STREAM and GOAWAY (RFC 9113 §7). */
export const ErrorCode = Object.freeze({
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
});

/** SETTINGS parameter identifiers (RFC 9113 §6.5.2). */
export const Setting = Object.freeze({
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
});

function reverse(table: Readonly<Record<string, number>>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, code] of Object.entries(table)) if (!out.has(code)) out.set(code, name);
  return out;
}
const ERROR_NAMES = reverse(ErrorCode);
const FRAME_NAMES = reverse(FrameType);

/** The RFC name of an error code ("CANCEL"), or "UNKNOWN_ERROR(0x…)" for codes outside RFC 9113. */
export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `UNKNOWN_ERROR(0x${code.toString(16)})`;
}

/** The RFC name of a frame type ("HEADERS"), or "UNKNOWN(0x…)" for extension types. */
export function frameTypeName(type: number): string {
  return FRAME_NAMES.get(type) ?? `UNKNOWN(0x${type.toString(16)})`;
}
