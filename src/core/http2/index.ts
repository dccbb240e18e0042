/**
 * tako's HTTP/2 server codec: runtime-neutral (bytes in, bytes out), strict (RFC 9113 and
 * RFC 7541), for engines whose runtime has no fast HTTP/2 server of its own to hand a socket to.
 */
export { H2ServerConnection } from "./connection.ts";
export type { H2ConnectionOptions, H2Handler } from "./handler.ts";
export { H2Code, H2Error, h2CodeName } from "./errors.ts";
export { Flag, FrameType, Setting } from "./frames.ts";
export { HpackDecoder, HpackEncoder, HPACK_TABLE_SIZE } from "./hpack.ts";
export { huffmanDecode, huffmanEncodeInto, huffmanLength, HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman.ts";
export type { H2RequestHead } from "./request.ts";
