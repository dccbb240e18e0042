// Raw Bun.serve over HTTP/2 with TLS (`tls` and `http2: true`: ALPN offers h2), with the
// hand-written dispatch of the HTTP/1.1 baseline (raw-bun.ts).
import { serveRawBun } from "./_raw-bun.ts";
import { pem } from "./_tls.ts";

serveRawBun({ tls: pem(), http2: true });
