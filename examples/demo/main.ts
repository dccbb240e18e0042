// The demo server: `npm start`. Hello, a param route, JSON echo and a streamed response, served
// over HTTP/1.1 and, on a second port, over HTTP/2 cleartext (h2c, prior knowledge).
import { Router, Server, TcpListener, json } from "../../src/index.ts";

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

const listener = await TcpListener.bind(process.env.TAKO_ADDR ?? "127.0.0.1:8080");
const h2cListener = await TcpListener.bind(process.env.TAKO_H2C_ADDR ?? "127.0.0.1:8081");
const url = (l: TcpListener): string => {
  const { address, port } = l.localAddr();
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
};
// `serve(listener, router)` and `serveH2c(h2cListener, router)` would do; handles let the demo
// print its curl lines only once both ports accept (on Bun, h2c takes its port asynchronously).
const server = Server.builder().build();
const handles = [server.spawnHttp(listener, router), server.spawnH2c(h2cListener, router)];
await Promise.all(handles.map((h) => h.ready()));
const base = url(listener);
const h2c = url(h2cListener);
console.log(`tako demo: listening on ${base}
h2c (HTTP/2 prior knowledge) on ${h2c}
try:
  curl ${base}/
  curl ${base}/users/42
  curl -X POST -H 'content-type: application/json' -d '{"hello":"tako"}' ${base}/echo
  curl -N ${base}/stream
  curl --http2-prior-knowledge ${h2c}/users/42
  curl --http2-prior-knowledge -N ${h2c}/stream`);
await Promise.all(handles.map((h) => h.join()));
