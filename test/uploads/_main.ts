// Uploads fixture: routes that answer before the request body has been read, served with
// spawnHttp under the config in TAKO_CONFIG (JSON); with TAKO_UPLOADS_TLS=1, with spawnTls (the
// localhost test certificate). The Router keeps its default 1 MiB body limit. Prints
// "READY <port>"; SIGTERM drains it, then it prints "STOPPED <ms>" and exits.
import { readdirSync } from "node:fs";
import { Reply, Router, Server, type ServerHandle, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.onError(() => {});
// 413 from the buffering reader (past the declared Content-Length, or past the limit when chunked).
router.post("/bytes", async (req) => ({ bytes: (await req.bytes()).byteLength }));
// 413 from the streaming reader.
router.post("/stream", async (req) => {
  let n = 0;
  for await (const chunk of req.body ?? []) n += chunk.byteLength;
  return { bytes: n };
});
// A handler that answers, and ends the connection, without reading the body.
router.post("/early", () => new Reply("refused without reading", 403, { connection: "close" }));
// Descriptors the server process holds: its connections are released when this goes back down.
router.get("/fds", () => ({ fds: readdirSync("/proc/self/fd").length }));

const listener = await TcpListener.bind("127.0.0.1:0");
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
let handle: ServerHandle;
if (process.env.TAKO_UPLOADS_TLS === "1") {
  const certs = testCerts();
  handle = builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build().spawnTls(listener, router);
} else handle = builder.build().spawnHttp(listener, router);
await runFixture(handle);
