// Incremental reading of a PROXY header from a byte stream, for engines that receive bytes in
// chunks they cannot put back (node:net 'data' events, Bun.listen's `data` handler).
import type { ProxyHeader } from "./header.ts";
import { mayBeProxyHeader, parseProxyHeader } from "./parse.ts";

/** A header read to its end: the header (`null` in optional mode when there is none) and the bytes after it. */
export interface ProxyRead {
  readonly header: ProxyHeader | null;
  /** The bytes that arrived after the header (the application's first bytes); may be empty. */
  readonly rest: Uint8Array;
}

/**
 * Collects the chunks a connection opens with until they hold a complete PROXY header (v1 or
 * v2), or show there is none. `"required"`: anything but a valid header throws a
 * `ProxyProtocolError`. `"optional"`: bytes that cannot start a header are the application's
 * (the header is `null`); bytes that start like one must be a valid one.
 *
 * Chunks kept while the header is incomplete are copied (a runtime may reuse its read buffer);
 * a header complete in one chunk costs no copy, and `rest` is then a view of that chunk.
 */
export class ProxyHeaderReader {
  readonly #mode: "required" | "optional";
  readonly #onBadCrc: "reject" | "flag";
  #seen: Uint8Array | null = null;

  constructor(mode: "required" | "optional", onBadCrc: "reject" | "flag") {
    this.#mode = mode;
    this.#onBadCrc = onBadCrc;
  }

  /**
   * Adds `chunk`: the header and the bytes after it once complete, `null` while more bytes are
   * needed. Throws a `ProxyProtocolError` as soon as the bytes cannot be a valid header.
   */
  push(chunk: Uint8Array): ProxyRead | null {
    const before = this.#seen;
    let seen: Uint8Array;
    if (before === null) seen = chunk;
    else {
      seen = new Uint8Array(before.length + chunk.length);
      seen.set(before);
      seen.set(chunk, before.length);
    }
    if (this.#mode === "optional" && !mayBeProxyHeader(seen)) return { header: null, rest: seen };
    const result = parseProxyHeader(seen, { onBadCrc: this.#onBadCrc });
    if (result.done) {
      this.#seen = null;
      return { header: result.header, rest: seen.subarray(result.header.headerLength) };
    }
    this.#seen = before === null ? chunk.slice() : seen;
    return null;
  }
}
