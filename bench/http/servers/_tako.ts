// The tako app every tako server runs: the same routes, served over HTTP/1.1 (tako.ts), cleartext
// HTTP/2 (tako-h2c.ts) or TLS (tako-tls.ts); the same files run on Node (tsx), Bun and Deno.
import { Router, TcpListener, type ServerHandle } from "../../../src/index.ts";

/** The three bench routes as a tako router (also served over HTTP/3 by bench/h3). */
export function benchRouter(): Router {
  const router = new Router();
  router.get("/", () => "Hello, World!");
  router.get("/users/{id}", (req) => ({ id: req.params.id }));
  router.post("/echo", async (req) => await req.json());
  return router;
}

/**
 * Serves the three routes with `spawn` on 127.0.0.1:$PORT and prints "READY <port>" once the
 * server accepts connections: on Bun and Deno, h2c and TLS move the port to another server after
 * the bind (`handle.ready()`), and the harness connects as soon as it reads READY.
 */
export async function serveTako(spawn: (listener: TcpListener, router: Router) => ServerHandle): Promise<void> {
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
  const port = Number(env?.PORT ?? "0");

  const router = benchRouter();
  const listener = await TcpListener.bind(`127.0.0.1:${port}`);
  const handle = spawn(listener, router);
  await handle.ready();
  console.log(`READY ${listener.localAddr().port}`);
  await handle.join();
}
