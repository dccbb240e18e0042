// Cancellation: stop work nobody is waiting for.
//   node --import tsx examples/cancellation/main.ts     (or bun / deno run -A)
// Then: curl -m 1 http://127.0.0.1:3000/report/5000   (leave after 1 s: the report stops)
//       curl -i http://127.0.0.1:3000/search/3000     (past the route's 1 s timeout: 503)
//       curl -N http://127.0.0.1:3000/feed            (Ctrl-C: the feed stops at once)
// req.signal aborts when the client leaves, at a handler timeout and at the drain deadline;
// its reason's code says which. Pass it to whatever the handler waits on.
import { Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";

/** A stand-in for a slow query or upstream call that honours an AbortSignal, as fetch and most drivers do. */
function work(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

const codeOf = (signal: AbortSignal): string => (signal.reason as { code?: string }).code ?? "aborted";

const router = new Router();
// Errors thrown because the signal aborted need no report.
router.onError((error) => {
  if ((error as { code?: string }).code?.startsWith("TAKO_ERR_")) return;
  console.error(error);
});

router.get("/report/{ms}", async (req) => {
  console.log("report started");
  req.signal.addEventListener("abort", () => console.log(`report cancelled: ${codeOf(req.signal)}`));
  await work(Number(req.params.ms), req.signal);
  return { report: "ready" };
});

// This route answers within a second or not at all: 503, and its signal aborts.
router
  .get("/search/{ms}", async (req) => {
    req.signal.addEventListener("abort", () => console.log(`search cancelled: ${codeOf(req.signal)}`));
    await work(Number(req.params.ms), req.signal);
    return { results: [] };
  })
  .timeout(1_000);

// A stream the client can leave at any moment: an async generator's finally runs once its
// current await settles, so it awaits with req.signal.
router.get("/feed", (req) =>
  (async function* () {
    try {
      for (let n = 1; ; n++) {
        yield `update ${n}\n`;
        await work(Number(process.env.INTERVAL ?? 1_000), req.signal);
      }
    } finally {
      console.log("feed stopped");
    }
  })(),
);

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
// Every handler gets 10 s at most, unless its route says otherwise.
const handle = Server.builder().config({ handlerTimeout: 10_000 }).build().spawnHttp(listener, router);
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`listening on http://${address}:${port}/`);
await handle.join();
