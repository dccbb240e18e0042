// Hono on Bun: Bun.serve({ fetch: app.fetch }).
import { honoApp } from "./_hono.ts";
import { serveRawBun } from "./_raw-bun.ts";

serveRawBun({}, honoApp().fetch);
