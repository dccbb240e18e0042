// A raw HTTP/2 frame client for tests that attack and probe h2c servers (cleartext, prior
// knowledge) over real loopback sockets: hand-built frames go out exactly as written, and every
// frame that comes back is parsed, counted and (for headers) HPACK-decoded.
//
// Encoders never validate their arguments beyond what is needed to produce bytes, so tests can
// send deliberately malformed frames (wrong PING length, zero WINDOW_UPDATE, reserved bits...).
// Header names and values are treated as latin1 strings: one character is one octet, on the way
// out (encodeHeaders) and on the way in (HpackDecoder), so any octet sequence round-trips.
export { PREFACE, FrameType, Flag, ErrorCode, Setting, errorName, frameTypeName } from "./constants.ts";
export {
  frameHeader,
  frame,
  settings,
  settingsAck,
  ping,
  rstStream,
  goaway,
  windowUpdate,
  data,
  headers,
  continuation,
  parseSettings,
  parseGoaway,
  parseRstStream,
  type HeadersFrameOptions,
  type Frame,
  type GoawayInfo,
} from "./frames.ts";
export {
  hpackInteger,
  hpackString,
  hpackIndexed,
  hpackLiteral,
  hpackTableSizeUpdate,
  encodeHeaders,
  request,
  type HpackLiteralKind,
  type RequestOptions,
} from "./hpack-encoder.ts";
export { huffmanCode, huffmanEncode, huffmanDecode } from "./huffman.ts";
export { HpackError } from "./hpack-error.ts";
export { HPACK_STATIC_TABLE, HpackDecoder, type HpackStats } from "./hpack-decoder.ts";
export { H2RawConn, type H2RawConnectOptions, type H2Response } from "./client.ts";
