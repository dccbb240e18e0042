// The demo server: `npm start`. Hello, a param route, JSON echo and a streamed response, served
// over HTTP/1.1 (8080), HTTP/2 cleartext with prior knowledge (h2c, 8081) and HTTPS with ALPN
// h2 + http/1.1 (8443, with a development certificate made on first run).
import { Router, Server, TcpListener, TlsCert, json } from "../../src/index.ts";
import { devCert } from "./dev-cert.ts";

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
const tlsListener = await TcpListener.bind(process.env.TAKO_TLS_ADDR ?? "127.0.0.1:8443");
const dev = devCert();
const url = (l: TcpListener, scheme = "http"): string => {
  const { address, port } = l.localAddr();
  return `${scheme}://${address.includes(":") ? `[${address}]` : address}:${port}`;
};
// `serve`, `serveH2c` and `serveTls` would do; handles let the demo print its curl lines only
// once every port accepts (on Bun and Deno, h2c and TLS take their ports asynchronously).
const server = Server.builder().tls(TlsCert.pemPaths(dev.cert, dev.key)).build();
const handles = [server.spawnHttp(listener, router), server.spawnH2c(h2cListener, router), server.spawnTls(tlsListener, router)];
await Promise.all(handles.map((h) => h.ready()));
const base = url(listener);
const h2c = url(h2cListener);
const secure = url(tlsListener, "https");
console.log(`tako demo: listening on ${base}
h2c (HTTP/2 prior knowledge) on ${h2c}
https (h2 and http/1.1 by ALPN) on ${secure}
try:
  curl ${base}/
  curl ${base}/users/42
  curl -X POST -H 'content-type: application/json' -d '{"hello":"tako"}' ${base}/echo
  curl -N ${base}/stream
  curl --http2-prior-knowledge ${h2c}/users/42
  curl --http2-prior-knowledge -N ${h2c}/stream
  curl --cacert ${dev.ca} ${secure}/users/42
  curl --cacert ${dev.ca} --http1.1 ${secure}/users/42`);
await Promise.all(handles.map((h) => h.join()));
