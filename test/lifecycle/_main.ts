// Lifecycle fixture: a server built from TAKO_CONFIG (JSON, partial ServerConfig), stopped by
// SIGTERM through shutdownOnSignals. Prints "READY <port>", "HANDLING <tag>" when a tagged
// request reaches its handler, then "STOPPED <ms>" (time from the signal to join()) and exits.
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.onError(() => {});
router.get("/", () => "ok");
// Reads a whole upload (the slow-upload attack sends it a byte a second).
router.post("/upload", async (req) => ({ bytes: (await req.bytes()).byteLength }));
// Handlers in flight on purpose; "?tag=x" prints "HANDLING x" once the handler runs.
const handling = (req: { query: URLSearchParams }): void => {
  const tag = req.query.get("tag");
  if (tag !== null) console.log(`HANDLING ${tag}`);
};
router.get("/slow/{ms}", async (req) => {
  handling(req);
  await new Promise((r) => setTimeout(r, Number(req.params.ms)));
  return `slept ${req.params.ms}`;
});
router.get("/hang", (req) => {
  handling(req);
  return new Promise<string>(() => {});
});
// A sync handler whose streamed body pauses for {ms} between its two chunks.
router.get("/gap/{ms}", (req) => {
  const ms = Number(req.params.ms);
  return (async function* () {
    yield "first\n";
    await new Promise((r) => setTimeout(r, ms));
    yield "second\n";
  })();
});

const config = JSON.parse(process.env.TAKO_CONFIG ?? "{}");
const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder().config(config).build().spawnHttp(listener, router);
await runFixture(handle);
