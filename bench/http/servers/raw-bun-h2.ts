// Raw Bun.serve over cleartext HTTP/2 (h2c, prior knowledge: `http2: true` without TLS), with the
// hand-written dispatch of the HTTP/1.1 baseline (raw-bun.ts).
import { serveRawBun } from "./_raw-bun.ts";

serveRawBun({ http2: true });
