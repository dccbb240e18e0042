import { parseProxyHeader, type ProxyHeader, ProxyHeaderReader, type ProxyRead } from "../../core/proxy-protocol/index.ts";
import type { DenoConn } from "./deno-api.ts";

/**
 * Reads a PROXY protocol header (v1 or v2) from the start of a `Deno.Conn` without reading one
 * byte past it: each read asks for exactly the bytes the parser says the header still needs at
 * least (`need`), so the connection can go to Deno's HTTP server positioned at the first HTTP
 * byte (Deno has no way to put bytes back). Rejects with a `ProxyProtocolError` for a bad header
 * or an `Error` when the peer leaves first; the caller bounds it with `proxyReadTimeout`.
 * Required mode only: telling a header from HTTP (optional mode) means reading HTTP bytes.
 */
export async function readProxyHeader(conn: DenoConn, onBadCrc: "reject" | "flag"): Promise<ProxyHeader> {
  let seen = new Uint8Array(0);
  for (;;) {
    const result = parseProxyHeader(seen, { onBadCrc });
    if (result.done) return result.header;
    const more = new Uint8Array(seen.length + result.need);
    more.set(seen);
    let at = seen.length;
    while (at < more.length) {
      const n = await conn.read(more.subarray(at));
      if (n === null) throw new Error("connection closed before a complete PROXY header");
      at += n;
    }
    seen = more;
  }
}

/**
 * Optional mode, for a connection whose bytes all go to tako's own codec (an h2c-only port): the
 * PROXY header if the connection opens with one (`null` when its first bytes cannot start one),
 * and the bytes read past it, which the caller feeds to the codec first. Rejects as
 * {@link readProxyHeader} does.
 */
export async function readProxyOpening(conn: DenoConn, onBadCrc: "reject" | "flag"): Promise<ProxyRead> {
  const reader = new ProxyHeaderReader("optional", onBadCrc);
  for (;;) {
    const buf = new Uint8Array(4096); // a fresh one per read: the result may be a view of it
    const n = await conn.read(buf);
    if (n === null) throw new Error("connection closed before a complete PROXY header");
    const read = reader.push(buf.subarray(0, n));
    if (read !== null) return read;
  }
}
