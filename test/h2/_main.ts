// h2c fixture: the contract app (the same Router as every other suite) plus HTTP/2 probes,
// served with spawnH2c under the config in TAKO_CONFIG (JSON) and `{ http1 }` from TAKO_H2C_HTTP1;
// with TAKO_H2_TLS=1, served with spawnTls instead (the localhost test certificate, ALPN h2 and
// http/1.1). Prints "READY <port>"; SIGTERM drains it, then it prints "STOPPED <ms>" and exits.
import { Server, type ServerHandle, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
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

/**
 * A streamed body that fails midway: "/h2/midway/{id}" sends a first chunk, waits until
 * "POST /h2/break/{id}" releases it, then throws `midway {id}` (an async iterable, or with
 * "?kind=readable" a ReadableStream that errors). "/h2/failures/{id}" says how many times the
 * onError hook saw that error.
 */
const breaks = new Map<string, () => void>();
const failures = new Map<string, number>();
router.onError((error) => {
  const id = /^midway (\S+)$/.exec(error instanceof Error ? error.message : "")?.[1];
  if (id !== undefined) failures.set(id, (failures.get(id) ?? 0) + 1);
});
const released = (id: string): Promise<void> => new Promise<void>((resolve) => breaks.set(id, resolve));
router.get("/h2/midway/{id}", (req) => {
  const id = req.params.id;
  const first = new TextEncoder().encode(`partial ${id}\n`);
  if (req.query.get("kind") === "readable") {
    let pulls = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pulls++ === 0) return controller.enqueue(first);
        await released(id);
        controller.error(new Error(`midway ${id}`));
      },
    });
  }
  return (async function* () {
    yield first;
    await released(id);
    throw new Error(`midway ${id}`);
  })();
});
router.post("/h2/break/{id}", (req) => {
  const release = breaks.get(req.params.id);
  breaks.delete(req.params.id);
  release?.();
  return { released: release !== undefined };
});
router.get("/h2/failures/{id}", (req) => ({ count: failures.get(req.params.id) ?? 0 }));

const listener = await TcpListener.bind("127.0.0.1:0");
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
let handle: ServerHandle;
if (process.env.TAKO_H2_TLS === "1") {
  const certs = testCerts();
  handle = builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build().spawnTls(listener, router);
} else handle = builder.build().spawnH2c(listener, router, { http1: process.env.TAKO_H2C_HTTP1 === "1" });
await runFixture(handle);
