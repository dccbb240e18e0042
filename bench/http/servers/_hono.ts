// The Hono app every Hono bench server runs (Node, Bun and Deno; HTTP/1.1, h2c and TLS): the
// three bench routes.
import { Hono } from "hono";

export function honoApp(): Hono {
  const app = new Hono();
  app.get("/", (c) => c.text("Hello, World!"));
  app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/echo", async (c) => c.json(await c.req.json()));
  return app;
}
