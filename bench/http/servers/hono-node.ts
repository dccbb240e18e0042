// Hono on Node through @hono/node-server.
import { serve } from "@hono/node-server";
import { honoApp } from "./_hono.ts";

serve({ fetch: honoApp().fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? "0") }, (info) => {
  console.log(`READY ${info.port}`);
});
