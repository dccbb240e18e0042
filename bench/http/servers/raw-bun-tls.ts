// Raw Bun.serve over HTTPS/1.1 (`tls` with the development certificate as PEM text, no `http2`),
// with the hand-written dispatch of the HTTP/1.1 baseline (raw-bun.ts).
import { serveRawBun } from "./_raw-bun.ts";
import { pem } from "./_tls.ts";

serveRawBun({ tls: pem() });
