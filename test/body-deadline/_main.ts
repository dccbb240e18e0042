// Body deadline fixture: routes reading the request body each way a handler can, served with
// spawnHttp (or spawnH2c with `http1: true` when TAKO_H2C=1, or spawnTls with the localhost test
// certificate when TAKO_TLS=1) under the config in TAKO_CONFIG
// (JSON). Prints "READY <port>"; SIGTERM drains it.
import { Router, Server, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.onError(() => {});
router.post("/bytes", async (req) => ({ bytes: (await req.bytes()).byteLength }));
router.post("/text", async (req) => ({ bytes: (await req.text()).length }));
router.post("/stream", async (req) => {
  let n = 0;
  for await (const chunk of req.body ?? []) n += chunk.byteLength;
  return { bytes: n };
});
// Works for `ms` before it asks for the body: time the server is not waiting for body bytes.
router.post("/late/{ms}", async (req) => {
  await new Promise((r) => setTimeout(r, Number(req.params.ms)));
  return { bytes: (await req.bytes()).byteLength };
});
// Answers without reading the body.
router.post("/ignore", () => "ignored");
router.get("/", () => "ok");

const listener = await TcpListener.bind("127.0.0.1:0");
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
if (process.env.TAKO_TLS === "1") {
  const certs = testCerts();
  await runFixture(builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build().spawnTls(listener, router));
} else {
  const server = builder.build();
  await runFixture(process.env.TAKO_H2C === "1" ? server.spawnH2c(listener, router, { http1: true }) : server.spawnHttp(listener, router));
}
