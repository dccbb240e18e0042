// Hono on Bun over cleartext HTTP/2: Bun.serve({ http2: true, fetch: app.fetch }).
import { honoApp } from "./_hono.ts";
import { serveRawBun } from "./_raw-bun.ts";

serveRawBun({ http2: true }, honoApp().fetch);
