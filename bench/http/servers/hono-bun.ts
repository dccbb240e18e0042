// Hono on Bun: Bun.serve({ fetch: app.fetch }).
import { Hono } from "hono";

interface BunApi {
  serve(options: { hostname: string; port: number; fetch(request: Request): Response | Promise<Response> }): { readonly port: number };
  env: Record<string, string | undefined>;
}
const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

const app = new Hono();
app.get("/", (c) => c.text("Hello, World!"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/echo", async (c) => c.json(await c.req.json()));

const server = Bun.serve({ hostname: "127.0.0.1", port: Number(Bun.env.PORT ?? "0"), fetch: app.fetch });
console.log(`READY ${server.port}`);
