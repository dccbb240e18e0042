// The Fastify app both Fastify servers run (defaults: no logger, built-in JSON body parser), over
// HTTP/1.1 (fastify-node.ts) or cleartext HTTP/2 (fastify-node-h2.ts).
import Fastify, { type FastifyInstance, type RawServerBase } from "fastify";

async function serve<S extends RawServerBase>(app: FastifyInstance<S>): Promise<void> {
  app.get("/", async () => "Hello, World!");
  app.get<{ Params: { id: string } }>("/users/:id", async (req) => ({ id: req.params.id }));
  app.post("/echo", async (req) => req.body);

  await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? "0") });
  const addr = app.server.address();
  console.log(`READY ${typeof addr === "object" && addr !== null ? addr.port : 0}`);
}

/** Serves the three routes on 127.0.0.1:$PORT and prints "READY <port>". */
export async function serveFastify(http2: boolean): Promise<void> {
  // `http2` is a literal in each call so Fastify's overloads pick the matching server type.
  await (http2 ? serve(Fastify({ logger: false, http2: true })) : serve(Fastify({ logger: false })));
}
