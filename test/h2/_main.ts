// h2c fixture: the conformance app (the same Router as the HTTP/1.1 suite) plus HTTP/2 probes,
// served with spawnH2c under the config in TAKO_CONFIG (JSON) and `{ http1 }` from TAKO_H2C_HTTP1.
// Prints "READY <port>"; SIGTERM drains it, then it prints "STOPPED <ms>" and exits.
import { Server, TcpListener } from "../../src/index.ts";
import { fixtureApp } from "../contract/_app.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = fixtureApp();
/** Bytes the endless stream produced so far, per id: a peer that does not read must bound it. */
const produced = new Map<string, number>();
router.get("/h2/endless/{id}", (req) => {
  const id = req.params.id;
  produced.set(id, 0);
  const chunk = new Uint8Array(16 * 1024);
  return (async function* () {
    for (;;) {
      produced.set(id, (produced.get(id) ?? 0) + chunk.byteLength);
      yield chunk;
    }
  })();
});
router.get("/h2/produced/{id}", (req) => ({ bytes: produced.get(req.params.id) ?? -1 }));
router.get("/h2/hold/{ms}", async (req) => {
  await new Promise((r) => setTimeout(r, Number(req.params.ms)));
  return `held ${req.params.ms}`;
});
let started = 0;
router.get("/h2/counted", async () => {
  started++;
  await new Promise((r) => setTimeout(r, 20));
  return "counted";
});
router.get("/h2/started", () => ({ started }));
router.get("/h2/connection-header", () => new Response("ok", { headers: { connection: "keep-alive", "keep-alive": "timeout=5", "transfer-encoding": "chunked", "x-kept": "yes" } }));

const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .build()
  .spawnH2c(listener, router, { http1: process.env.TAKO_H2C_HTTP1 === "1" });
await runFixture(handle);
