// Cancellation fixture. Every abort of a req.signal is printed as "ABORT <id> <code> <ms since
// epoch>", every end of a streamed body's source as "CANCEL <id> <ms>", every handler that ran
// to its end as "DONE <id>", so the suite sees them even across a drain. Transport by TAKO_CANCEL:
// h1 (spawnHttp), h2c (spawnH2c with HTTP/1.1 on the port), tls (h2 and http/1.1 by ALPN),
// proxy (PROXY required, spawnHttp), proxy-tls (PROXY required, then TLS); tls-http1 and
// proxy-tls-http1: the same with HTTP/2 off (on Bun, TLS on Bun.listen). TAKO_CONFIG: a
// partial ServerConfig as JSON (handlerTimeout, drainTimeout).
import { Router, Server, sse, TcpListener, TlsCert } from "../../src/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

const say = (line: string): void => console.log(line);
/** Reads req.signal and reports its abort. */
function watch(id: string, signal: AbortSignal): AbortSignal {
  signal.addEventListener("abort", () => say(`ABORT ${id} ${(signal.reason as { code?: string }).code ?? String(signal.reason)} ${Date.now()}`));
  return signal;
}

const encoder = new TextEncoder();

/** One chunk at once, the next only after 10 s; `return()` reports. */
class Ticks implements AsyncIterableIterator<string> {
  #sent = false;
  readonly #ended: () => void;
  constructor(ended: () => void) {
    this.#ended = ended;
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
  async next(): Promise<IteratorResult<string>> {
    if (this.#sent) await sleep(10_000);
    this.#sent = true;
    return { done: false, value: "chunk\n" };
  }
  async return(): Promise<IteratorResult<string>> {
    this.#ended();
    return { done: true, value: undefined };
  }
}
const router = new Router();
router.onError(() => {});

// Waits {ms} (until the signal aborts), then answers.
router.get("/wait/{id}/{ms}", async (req) => {
  const signal = watch(req.params.id, req.signal);
  say(`START ${req.params.id}`);
  await sleep(Number(req.params.ms), signal);
  say(`DONE ${req.params.id}`);
  return `waited ${req.params.ms}`;
});
// Reads the signal, answers at once: a sync handler, an async one, a JSON body, a short stream.
router.get("/quick/sync/{id}", (req) => {
  watch(req.params.id, req.signal);
  return "quick";
});
router.get("/quick/async/{id}", async (req) => {
  watch(req.params.id, req.signal);
  await sleep(1);
  return { quick: true };
});
router.get("/quick/stream/{id}", (req) => {
  const signal = watch(req.params.id, req.signal);
  return (async function* () {
    yield "a";
    await sleep(1, signal);
    yield "b";
  })();
});

// A streamed body: one chunk, then the next only after 10 s. Its source's end is reported.
router.get("/stream/{kind}/{id}", (req) => {
  const { kind, id } = req.params;
  const ended = (): void => say(`CANCEL ${id} ${Date.now()}`);
  if (kind === "readable" || kind === "response") {
    let sent = false;
    say(`START ${id}`);
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent) await sleep(10_000);
        sent = true;
        controller.enqueue(encoder.encode("chunk\n"));
      },
      cancel: ended,
    });
    // A Fetch Response the handler built around the stream.
    return kind === "response" ? new Response(stream, { headers: { "content-type": "text/plain" } }) : stream;
  }
  // A hand-written async iterator (a class: a plain object literal would be sent as JSON):
  // its return() is called as soon as the client leaves.
  const iterator = (): Ticks => new Ticks(ended);
  say(`START ${id}`);
  if (kind === "iterator") return iterator();
  if (kind === "sse") return sse(iterator(), { keepAlive: null });
  // An async generator: return() waits for its current await, so it awaits with req.signal.
  const signal = watch(id, req.signal);
  return (async function* () {
    try {
      yield "chunk\n";
      await sleep(10_000, signal);
      yield "late\n";
    } finally {
      ended();
    }
  })();
});

// Handler timeouts: the server's (TAKO_CONFIG handlerTimeout), a route's own, none.
router.get("/slow/{id}/{ms}", async (req) => {
  const signal = watch(req.params.id, req.signal);
  await sleep(Number(req.params.ms), signal);
  say(`DONE ${req.params.id}`);
  return "slow done";
});
router
  .get("/fast-limit/{id}/{ms}", async (req) => {
    const signal = watch(req.params.id, req.signal);
    await sleep(Number(req.params.ms), signal);
    say(`DONE ${req.params.id}`);
    return "fast-limit done";
  })
  .timeout(150);
router
  .get("/unlimited/{id}/{ms}", async (req) => {
    const signal = watch(req.params.id, req.signal);
    await sleep(Number(req.params.ms), signal);
    say(`DONE ${req.params.id}`);
    return "unlimited done";
  })
  .timeout(null);
// A handler that ignores its signal and keeps going past the timeout: its late answer is dropped.
router.get("/stubborn/{id}", async (req) => {
  watch(req.params.id, req.signal);
  await sleep(600);
  say(`DONE ${req.params.id}`);
  return "too late";
});

const listener = await TcpListener.bind("127.0.0.1:0");
const mode = process.env.TAKO_CANCEL ?? "h1";
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
if (mode.startsWith("proxy")) builder.proxyProtocol("required");
if (mode.includes("tls")) {
  const certs = testCerts();
  builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key));
  if (mode.endsWith("-http1")) builder.http2(false);
  await runFixture(builder.build().spawnTls(listener, router));
} else if (mode === "h2c") await runFixture(builder.build().spawnH2c(listener, router, { http1: true }));
else await runFixture(builder.build().spawnHttp(listener, router));
