// tako: the same file runs on Node (tsx), Bun and Deno.
import { Router, TcpListener, serve } from "../../../src/index.ts";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
const port = Number(env?.PORT ?? "0");

const router = new Router();
router.get("/", () => "Hello, World!");
router.get("/users/{id}", (req) => ({ id: req.params.id }));
router.post("/echo", async (req) => await req.json());

const listener = await TcpListener.bind(`127.0.0.1:${port}`);
const serving = serve(listener, router);
console.log(`READY ${listener.localAddr().port}`);
await serving;
