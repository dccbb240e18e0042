// Fixture of test/bun-engine/listen.test.ts: HTTP/1.1 with spawnHttp (on Bun, tako's codec on
// Bun.listen). Routes: /sync; /stream/{n}, n chunks from an async generator; /big, 128 chunks of
// 256 KiB from a stream that counts what it produced (read back at /produced); /echo, the body
// as text; /slow-upload, a body read only after /release. Prints "READY <port>".
import { Router, Server, TcpListener } from "../../src/index.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const BIG_CHUNKS = 128;
const BIG_CHUNK = 256 * 1024;

const router = new Router();
let produced = 0;
router.get("/sync", () => "sync");
router.get("/stream/{n}", (req) => {
  const n = Number(req.params.n);
  return (async function* () {
    for (let i = 0; i < n; i++) {
      await Promise.resolve();
      yield `part ${i};`;
    }
  })();
});
router.get("/big", () => {
  produced = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced === BIG_CHUNKS) return controller.close();
      controller.enqueue(new Uint8Array(BIG_CHUNK).fill(97 + (produced % 26)));
      produced++;
    },
  });
});
router.get("/produced", () => String(produced));
router.post("/echo", async (req) => await req.text());
// Reads one chunk of its body, then waits for /release before it reads the rest: the upload is
// held back meanwhile (backpressure). /upload-state says where it is.
let state = "idle";
let release: (() => void) | null = null;
router.post("/slow-upload", async (req) => {
  req.bodyLimit = 64 * 1024 * 1024;
  const reader = req.body!.getReader();
  let bytes = (await reader.read()).value?.length ?? 0;
  state = "waiting";
  await new Promise<void>((r) => (release = r));
  state = "reading";
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    bytes += next.value.length;
  }
  state = "idle";
  return String(bytes);
});
router.get("/upload-state", () => state);
router.get("/release", () => {
  release?.();
  return "released";
});

const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder().build().spawnHttp(listener, router);
await runFixture(handle);
