// HTTP/3 fixture: the contract app over spawnH3 on 127.0.0.1:0 (UDP), with a few routes only
// HTTP/3 tests need. TAKO_CONFIG: JSON config. TAKO_COMBINED=1 serves spawnTls(listener, router,
// { http3: true }) instead (TCP and UDP on one port number). Prints "READY <port>"; SIGTERM drains
// it ("STOPPED <ms>").
import { Server, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";
import { fixtureApp } from "../contract/_app.ts";

const certs = testCerts();
const router = fixtureApp();
// A handler that takes `ms` to answer: the drain test's request in flight. `/peak` reports (and
// resets) the most /slow requests that were being handled at once: the stream cap test.
let inflight = 0;
let peak = 0;
router.get("/slow/{ms}", async (req) => {
  console.log(`SLOW ${req.params.ms}`);
  peak = Math.max(peak, ++inflight);
  try {
    await new Promise((resolve) => setTimeout(resolve, Number(req.params.ms)));
  } finally {
    inflight--;
  }
  return `slept ${req.params.ms}`;
});
router.get("/peak", () => {
  const seen = peak;
  peak = 0;
  return { peak: seen };
});

const server = Server.builder()
  .config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"))
  .tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key))
  .build();
const handle = process.env.TAKO_COMBINED === "1" ? server.spawnTls(await TcpListener.bind("127.0.0.1:0"), router, { http3: true }) : await server.spawnH3("127.0.0.1:0", router);
await runFixture(handle);
