// Raw Bun.serve with the hand-written dispatch (_raw-fetch.ts): the Bun baselines differ only in
// the options they add (HTTP/2, TLS). No Bun types are installed: the part of the API used.
import { rawFetch } from "./_raw-fetch.ts";

interface ServeOptions {
  /** HTTP/2: h2c prior knowledge without `tls`, ALPN `h2` with it. */
  http2?: boolean;
  /** PEM text of the certificate and its key. */
  tls?: { cert: string; key: string };
  /** HTTP/3 over QUIC on the UDP port of the same number (needs `tls`; bench/h3). */
  http3?: boolean;
}
type Fetch = (request: Request) => Response | Promise<Response>;
type Serve = (options: ServeOptions & { hostname: string; port: number; fetch: Fetch }) => { readonly port: number };
const Bun = (globalThis as unknown as { Bun: { serve: Serve; env: Record<string, string | undefined> } }).Bun;

/**
 * Serves the three routes with Bun.serve on 127.0.0.1:$PORT and prints "READY <port>": the
 * hand-written dispatch, or `fetch` (a framework's handler on the same Bun.serve options).
 */
export function serveRawBun(options: ServeOptions = {}, fetch: Fetch = rawFetch): void {
  const server = Bun.serve({ hostname: "127.0.0.1", port: Number(Bun.env.PORT ?? "0"), fetch, ...options });
  console.log(`READY ${server.port}`);
}
