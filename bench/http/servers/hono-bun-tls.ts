// Hono on Bun over TLS (HTTPS/1.1): Bun.serve({ tls, fetch: app.fetch }).
import { honoApp } from "./_hono.ts";
import { serveRawBun } from "./_raw-bun.ts";
import { pem } from "./_tls.ts";

serveRawBun({ tls: pem() }, honoApp().fetch);
