// The error of HPACK decoding, shared by the Huffman decoder and the header block decoder.

/** A decoding error (HTTP/2 would answer with COMPRESSION_ERROR). */
export class HpackError extends Error {
  override name = "HpackError";
}
