// Observability fixture: subscribes to every tako diagnostics channel and prints each event as
// "EV <json>", installs accessLog() ("ACCESS <json>"), the requestId() middleware, and
// tako/otel's instrument() with the SDK's in-memory span exporter and a pull metric reader
// (served on /_spans and /_metrics). TAKO_MODE: "h1" (spawnHttp), "h2c" (spawnH2c with HTTP/1.1), "h2c-only" (spawnH2c),
// "tls" (spawnTls, h2 + http/1.1), "tls-h1" (spawnTls, HTTP/2 off), "proxy" / "proxy-optional" (spawnHttp, PROXY header required / optional). Config in
// TAKO_CONFIG (JSON); TAKO_NO_MIDDLEWARE=1 leaves out requestId(). Prints "READY <port>"; SIGTERM drains it.
import dc from "node:diagnostics_channel";
import { context, propagation, trace, metrics } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { accessLog, CHANNELS, requestId, Router, Server, TcpListener, TlsCert, type RequestMessage } from "../../src/index.ts";
import { instrument } from "../../src/otel/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const print = (event: Record<string, unknown>): void => console.log(`EV ${JSON.stringify(event)}`);

// Raw channel subscribers (what any APM would do).
let seq = 0;
const ids = new WeakMap<object, number>();
const idOf = (o: object): number => ids.get(o) ?? (ids.set(o, ++seq), seq);
const request = (ch: string) => (raw: unknown) => {
  const m = raw as RequestMessage;
  print({
    ch,
    id: idOf(m),
    method: m.method,
    path: m.path,
    route: m.route,
    status: m.status,
    clientLeft: m.clientLeft,
    httpVersion: m.httpVersion,
    remoteAddress: m.remoteAddress,
    error: m.error instanceof Error ? m.error.message : null,
  });
};
dc.tracingChannel(CHANNELS.request).subscribe({
  start: request("start"),
  end: request("end"),
  asyncStart: request("asyncStart"),
  asyncEnd: request("asyncEnd"),
  error: request("error"),
});
for (const [ch, name] of [
  ["open", CHANNELS.connectionOpen],
  ["close", CHANNELS.connectionClose],
  ["refused", CHANNELS.connectionRefused],
] as const) {
  dc.subscribe(name, (raw) => {
    const m = raw as { handle: object; remoteAddress: string; reason: string; error?: unknown };
    print({ ch, conn: idOf(m.handle), remoteAddress: m.remoteAddress, reason: m.reason, error: m.error === undefined ? null : String(m.error) });
  });
}
dc.subscribe(CHANNELS.h2Goaway, (raw) => {
  const m = raw as { code: number; reason: string };
  print({ ch: "goaway", code: m.code, reason: m.reason });
});
dc.subscribe(CHANNELS.drainStart, (raw) => print({ ch: "drainStart", forced: (raw as { forced: boolean }).forced }));
dc.subscribe(CHANNELS.drainEnd, (raw) => print({ ch: "drainEnd", forced: (raw as { forced: boolean }).forced }));
accessLog((e) => console.log(`ACCESS ${JSON.stringify(e)}`));

// OpenTelemetry, as an application would set it up, with in-memory export.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
class PullReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
const reader = new PullReader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
instrument({ ignore: (req) => req.path.startsWith("/_") });

const tracer = trace.getTracer("fixture");
const router = new Router();
router.onError(() => {});
// TAKO_NO_MIDDLEWARE=1: no middleware, so handler results reach the engine as they are.
if (process.env.TAKO_NO_MIDDLEWARE !== "1") router.middleware(requestId());
router.get("/users/{id}", (req) => ({ id: req.params.id, requestId: req.id }));
router.get("/boom", () => {
  throw new Error("boom");
});
router.get("/slow", async () => {
  await new Promise((r) => setTimeout(r, 1500));
  return "late";
});
// A streamed body that fails after its first chunk: the headers are out, so the response is cut.
router.get("/stream-fail", () =>
  (async function* () {
    yield "first chunk\n";
    await new Promise((r) => setTimeout(r, 20));
    throw new Error("stream broke");
  })(),
);
// A span started in the handler after an await: its parent is the server span when the handler runs in its context.
router.get("/child", async () => {
  await new Promise((r) => setTimeout(r, 5));
  const span = tracer.startSpan("child-work");
  span.end();
  return "ok";
});
router.get("/_spans", () =>
  spans.getFinishedSpans().map((s) => ({
    name: s.name,
    kind: s.kind,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
    status: s.status.code,
    attributes: s.attributes,
    events: s.events.map((e) => e.name),
  })),
);
router.get("/_metrics", async () => {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, unknown> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      out[m.descriptor.name] = m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }));
    }
  }
  return out;
});

const listener = await TcpListener.bind("127.0.0.1:0");
const mode = process.env.TAKO_MODE ?? "h1";
const builder = Server.builder().config(JSON.parse(process.env.TAKO_CONFIG ?? "{}"));
if (mode === "tls" || mode === "tls-h1") {
  const certs = testCerts();
  builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key));
  if (mode === "tls-h1") builder.http2(false);
  await runFixture(builder.build().spawnTls(listener, router));
} else if (mode === "proxy" || mode === "proxy-optional") {
  await runFixture(
    builder
      .proxyProtocol(mode === "proxy" ? "required" : "optional")
      .build()
      .spawnHttp(listener, router),
  );
} else {
  const server = builder.build();
  await runFixture(mode === "h2c" || mode === "h2c-only" ? server.spawnH2c(listener, router, { http1: mode === "h2c" }) : server.spawnHttp(listener, router));
}
