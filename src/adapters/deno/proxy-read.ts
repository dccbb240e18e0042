import { parseProxyHeader, type ProxyHeader } from "../../core/proxy-protocol/index.ts";
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
