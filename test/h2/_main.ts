// h2c fixture: the contract app (the same Router as every other suite) plus HTTP/2 probes,
// served with spawnH2c under the config in TAKO_CONFIG (JSON) and `{ http1 }` from TAKO_H2C_HTTP1.
// Prints "READY <port>"; SIGTERM drains it, then it prints "STOPPED <ms>" and exits.
import { Server, TcpListener } from "../../src/index.ts";
import { fixtureApp } from "../contract/_app.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = fixtureApp();
/**
 * Bytes the endless stream produced so far, per id, and when the server last pulled a chunk
 * from it: a peer that does not read must bound it, and the test waits until it has stalled.
 */
const produced = new Map<string, { bytes: number; at: number }>();
router.get("/h2/endless/{id}", (req) => {
  const id = req.params.id;
  const state = { bytes: 0, at: Date.now() };
  produced.set(id, state);
  const chunk = new Uint8Array(16 * 1024);
  return (async function* () {
    for (;;) {
      state.bytes += chunk.byteLength;
      state.at = Date.now();
      yield chunk;
    }
  })();
});
router.get("/h2/produced/{id}", (req) => {
  const state = produced.get(req.params.id);
  return state === undefined ? { bytes: -1, idleMs: 0 } : { bytes: state.bytes, idleMs: Date.now() - state.at };
});
// A handler that is in flight for {ms} on purpose; "?tag=x" prints "HOLDING x" once it started.
router.get("/h2/hold/{ms}", async (req) => {
  const tag = req.query.get("tag");
  if (tag !== null) console.log(`HOLDING ${tag}`);
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

const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .build()
  .spawnH2c(listener, router, { http1: process.env.TAKO_H2C_HTTP1 === "1" });
await runFixture(handle);
