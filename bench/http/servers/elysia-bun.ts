// Elysia on Bun with its defaults (JSON bodies parsed from the content type).
import { Elysia } from "elysia";

const env = (globalThis as unknown as { Bun: { env: Record<string, string | undefined> } }).Bun.env;

const app = new Elysia()
  .get("/", () => "Hello, World!")
  .get("/users/:id", ({ params }) => ({ id: params.id }))
  .post("/echo", ({ body }) => body);

app.listen({ hostname: "127.0.0.1", port: Number(env.PORT ?? "0") }, (server) => {
  console.log(`READY ${server.port}`);
});
