// Hono on Deno: Deno.serve(app.fetch).
import { Hono } from "hono";
import { serveDeno } from "./_deno.ts";

const app = new Hono();
app.get("/", (c) => c.text("Hello, World!"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/echo", async (c) => c.json(await c.req.json()));

serveDeno(app.fetch);
