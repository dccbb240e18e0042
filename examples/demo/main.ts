// The demo server: `npm start`. Hello, a param route, JSON echo and a streamed response.
import { Router, TcpListener, json, serve } from "../../src/index.ts";

const router = new Router();
router.get("/", () => "Hello, World!");
router.get("/users/{id}", (req) => ({ id: req.params.id, name: `user ${req.params.id}` }));
router.post("/echo", async (req) => json(await req.json(), { status: 200 }));
router.get("/stream", async function* () {
  for (let i = 1; i <= 5; i++) {
    yield `tick ${i}\n`;
    await new Promise((r) => setTimeout(r, 200));
  }
});

const addr = process.env.TAKO_ADDR ?? "127.0.0.1:8080";
const listener = await TcpListener.bind(addr);
const { address, port } = listener.localAddr();
const base = `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
console.log(`tako demo: listening on ${base}
try:
  curl ${base}/
  curl ${base}/users/42
  curl -X POST -H 'content-type: application/json' -d '{"hello":"tako"}' ${base}/echo
  curl -N ${base}/stream`);
await serve(listener, router);
