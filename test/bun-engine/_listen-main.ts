// Fixture of test/bun-engine/listen.test.ts: HTTP/1.1 with spawnHttp (on Bun, tako's codec on
// Bun.listen). Routes: /sync; /stream/{n}, n chunks from an async generator; /big, 128 chunks of
// 256 KiB from a stream that counts what it produced (read back at /produced); /echo, the body
// as text. Prints "READY <port>".
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

const listener = await TcpListener.bind("127.0.0.1:0");
const handle = Server.builder().build().spawnHttp(listener, router);
await runFixture(handle);
