// The Elysia app every Elysia bench server runs, on Bun with its defaults (JSON bodies parsed
// from the content type); `options` go to Bun.serve through Elysia's listen (HTTP/2, TLS).
import { Elysia } from "elysia";

const env = (globalThis as unknown as { Bun: { env: Record<string, string | undefined> } }).Bun.env;

export function serveElysia(options: { http2?: boolean; tls?: { cert: string; key: string } } = {}): void {
  const app = new Elysia()
    .get("/", () => "Hello, World!")
    .get("/users/:id", ({ params }) => ({ id: params.id }))
    .post("/echo", ({ body }) => body);
  // Elysia's listen hands its options to Bun.serve (`http2` is not in its type).
  const listen = { hostname: "127.0.0.1", port: Number(env.PORT ?? "0"), ...options } as Parameters<typeof app.listen>[0];
  app.listen(listen, (server) => {
    console.log(`READY ${server.port}`);
  });
}
