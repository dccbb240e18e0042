// Server-Sent Events: a clock that resumes where a reconnecting client left off.
//   node --import tsx examples/sse/main.ts     (or bun / deno run -A)
// Then: curl -N http://127.0.0.1:3000/clock      (or with -H 'Last-Event-ID: 41')
// Each event carries an id; a browser EventSource that reconnects sends the last one back as
// Last-Event-ID, read here as req.lastEventId. While no event is due, a comment heartbeat keeps
// proxies from closing the stream; when the client leaves, the generator's finally runs.
import { Router, Server, shutdownOnSignals, sse, TcpListener } from "../../src/index.ts";

const router = new Router();
router.get("/clock", (req) => {
  const from = Number(req.lastEventId ?? 0) + 1;
  return sse(
    (async function* () {
      try {
        for (let n = from; ; n++) {
          yield { event: "tick", id: String(n), data: { n, at: new Date().toISOString() } };
          await new Promise((r) => setTimeout(r, Number(process.env.INTERVAL ?? 1_000)));
        }
      } finally {
        console.log(`client left after event ${from}..`);
      }
    })(),
    { keepAlive: 15_000, retry: 2_000 },
  );
});

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
const handle = Server.builder().build().spawnHttp(listener, router);
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`listening on http://${address}:${port}/clock`);
await handle.join();
