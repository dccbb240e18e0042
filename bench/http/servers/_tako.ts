// The tako app both tako servers run: the same routes, served over HTTP/1.1 (tako.ts) or cleartext
// HTTP/2 (tako-h2c.ts); the same files run on Node (tsx), Bun and Deno.
import { Router, TcpListener, type serve } from "../../../src/index.ts";

/** Serves the three routes with `serveWith` on 127.0.0.1:$PORT and prints "READY <port>". */
export async function serveTako(serveWith: typeof serve): Promise<void> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
  const port = Number(env?.PORT ?? "0");

  const router = new Router();
  router.get("/", () => "Hello, World!");
  router.get("/users/{id}", (req) => ({ id: req.params.id }));
  router.post("/echo", async (req) => await req.json());

  const listener = await TcpListener.bind(`127.0.0.1:${port}`);
  const serving = serveWith(listener, router);
  console.log(`READY ${listener.localAddr().port}`);
  await serving;
}
