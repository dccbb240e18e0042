// Fastify on Node with its defaults (no logger, built-in JSON body parser).
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/", async () => "Hello, World!");
app.get<{ Params: { id: string } }>("/users/:id", async (req) => ({ id: req.params.id }));
app.post("/echo", async (req) => req.body);

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? "0") });
const addr = app.server.address();
console.log(`READY ${typeof addr === "object" && addr !== null ? addr.port : 0}`);
