/**
 * HTTP/2 error codes (RFC 9113 §7) and the one error type the codec throws: an
 * {@link H2Error} is either a connection error (stream id 0: GOAWAY, then close) or a stream
 * error (RST_STREAM on that stream; the connection lives on).
 */

/** RFC 9113 §7 error codes. */
export const H2Code = Object.freeze({
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

const NAMES = Object.keys(H2Code) as (keyof typeof H2Code)[];

/** The RFC name of an error code (`"PROTOCOL_ERROR"`), or `"0x…"` for codes outside RFC 9113. */
export function h2CodeName(code: number): string {
  return NAMES[code] ?? `0x${code.toString(16)}`;
}

/**
 * A violation the codec refuses. `streamId` 0 is a connection error: the connection answers
 * GOAWAY with `code` and closes. Any other id is a stream error: that stream gets RST_STREAM
 * with `code`, the connection goes on.
 */
export class H2Error extends Error {
  readonly code: number;
  readonly streamId: number;

  constructor(code: number, streamId: number, reason: string) {
    super(`${h2CodeName(code)}: ${reason}`);
    this.name = "H2Error";
    this.code = code;
    this.streamId = streamId;
  }

  /** True for a connection error (GOAWAY), false for a stream error (RST_STREAM). */
  get connection(): boolean {
    return this.streamId === 0;
  }
}

/** A connection error: GOAWAY with `code`. */
export function connError(code: number, reason: string): H2Error {
  return new H2Error(code, 0, reason);
}

/** A stream error on `streamId`: RST_STREAM with `code`. */
export function streamError(code: number, streamId: number, reason: string): H2Error {
  return new H2Error(code, streamId, reason);
}
