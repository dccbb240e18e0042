// HTTP/3 over QUIC next to HTTPS on one port number. MODE picks the shape (default `both`):
//   both   spawnTls(listener, router, { http3: true }): HTTP/1.1 and HTTP/2 over TLS on TCP, HTTP/3
//          on UDP, every TCP response advertising it with Alt-Svc; one handle drains both
//   h3     spawnH3(address, router): HTTP/3 only, on UDP
//
//   ADDR=127.0.0.1:8443 bun examples/h3/main.ts
//
// Bun serves HTTP/3 itself (Bun.serve's QUIC stack); Node.js and Deno need the optional peer
// dependency `@currentspace/http3` (without it the example stops with TAKO_ERR_UNSUPPORTED saying
// what to install; see docs/http3.md).
//   ADDR=127.0.0.1:8443 npx tsx examples/h3/main.ts      deno run -A examples/h3/main.ts
// It uses the demo's development certificate (made with openssl on first run).
import { Router, Server, type ServerHandle, shutdownOnSignals, TakoError, TcpListener, TlsCert } from "../../src/index.ts";
import { devCert } from "../demo/dev-cert.ts";

const dev = devCert();
const router = new Router();
router.get("/", (req) => ({ hello: "tako", httpVersion: req.conn.httpVersion, alpn: req.conn.tls?.alpnProtocol ?? null }));

const mode = process.env.MODE ?? "both";
const addr = process.env.ADDR ?? "127.0.0.1:8443";
const server = Server.builder().tls(TlsCert.pemPaths(dev.cert, dev.key)).build();

let handle: ServerHandle;
try {
  handle = mode === "h3" ? await server.spawnH3(addr, router) : server.spawnTls(await TcpListener.bind(addr), router, { http3: true });
  await handle.ready(); // rejects when HTTP/3 cannot start (the TCP side is closed then)
} catch (error) {
  if (error instanceof TakoError) {
    console.error(`h3 example: ${error.code}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`h3 example (${mode}): listening on https://${address}:${port}`);
console.log(`  gtlsclient --exit-on-all-streams-close ${address} ${port} https://localhost:${port}/`);
if (mode !== "h3") console.log(`  curl -sI --cacert ${dev.ca} https://localhost:${port}/ --resolve localhost:${port}:${address}   # see alt-svc`);
await handle.join();
