// SSE fixture: sse() routes served with spawnHttp (TAKO_SSE=h1), spawnH2c with HTTP/1.1 on the
// same port (h2c) or spawnTls with h2 and http/1.1 (tls, the localhost test certificate).
// Prints "READY <port>"; SIGTERM drains it.
import { Router, Server, type SseEvent, sse, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Sources ended (their finally ran) by id: the client left, or the stream finished. */
const ended = new Map<string, number>();

const router = new Router();
router.onError(() => {});
router.get("/events/{n}", (req) =>
  sse(
    (async function* (): AsyncGenerator<SseEvent | string> {
      const n = Number(req.params.n);
      for (let i = 1; i <= n; i++) {
        yield { event: "tick", id: String(i), data: `line one ${i}\nline two\r\nline three` };
        await sleep(10);
      }
      yield { data: { json: true, n } };
      yield "plain string";
    })(),
    { retry: 1500 },
  ),
);
router.get("/inject/{field}", (req) =>
  sse(
    (async function* (): AsyncGenerator<SseEvent> {
      yield { data: "before" };
      yield req.params.field === "event" ? { event: "x\ndata: injected", data: "y" } : { id: "1\r\nevent: evil", data: "y" };
    })(),
  ),
);
// One event, a pause of {ms} (heartbeats while idle), one more event.
router.get("/pause/{ms}/{keepAlive}", (req) =>
  sse(
    (async function* (): AsyncGenerator<string> {
      yield "first";
      await sleep(Number(req.params.ms));
      yield "second";
    })(),
    { keepAlive: req.params.keepAlive === "none" ? null : Number(req.params.keepAlive) },
  ),
);
router.get("/last", (req) =>
  sse(
    (async function* () {
      yield { data: req.lastEventId ?? "none" };
    })(),
  ),
);
// An endless stream that records when its source is ended.
router.get("/forever/{id}", (req) =>
  sse(
    (async function* (): AsyncGenerator<string> {
      try {
        for (let i = 0; ; i++) {
          yield `n${i}`;
          await sleep(100);
        }
      } finally {
        ended.set(req.params.id, Date.now());
      }
    })(),
    { keepAlive: null },
  ),
);
router.get("/ended/{id}", (req) => ({ ended: ended.get(req.params.id) ?? null, now: Date.now() }));

const listener = await TcpListener.bind("127.0.0.1:0");
const mode = process.env.TAKO_SSE ?? "h1";
const builder = Server.builder();
if (mode === "tls") {
  const certs = testCerts();
  await runFixture(builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build().spawnTls(listener, router));
} else if (mode === "h2c") await runFixture(builder.build().spawnH2c(listener, router, { http1: true }));
else await runFixture(builder.build().spawnHttp(listener, router));
