// Hono on Deno: Deno.serve(app.fetch).
import { Hono } from "hono";

interface DenoApi {
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
  env: { get(name: string): string | undefined };
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const app = new Hono();
app.get("/", (c) => c.text("Hello, World!"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/echo", async (c) => c.json(await c.req.json()));

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? "0"), onListen: ({ port }) => console.log(`READY ${port}`) },
  app.fetch,
);
