// Hono on Node through @hono/node-server.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("Hello, World!"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/echo", async (c) => c.json(await c.req.json()));

serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? "0") }, (info) => {
  console.log(`READY ${info.port}`);
});
