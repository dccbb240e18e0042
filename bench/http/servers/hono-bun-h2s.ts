// Hono on Bun over TLS with HTTP/2 (ALPN h2): Bun.serve({ tls, http2: true, fetch: app.fetch }).
import { honoApp } from "./_hono.ts";
import { serveRawBun } from "./_raw-bun.ts";
import { pem } from "./_tls.ts";

serveRawBun({ tls: pem(), http2: true }, honoApp().fetch);
