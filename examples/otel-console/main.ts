// OpenTelemetry to the console: a server span per request (child of the caller's `traceparent`),
// a span started inside a handler, the HTTP server metrics, an access log and request ids.
// The same file runs on Node.js, Bun and Deno:
//   node --import tsx examples/otel-console/main.ts
//   bun examples/otel-console/main.ts
//   deno run -A examples/otel-console/main.ts
// then: curl -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' localhost:3000/orders/42
//
// tako bundles no SDK or exporter: this example sets up the OpenTelemetry SDK itself (in your
// project: npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/sdk-metrics
// @opentelemetry/context-async-hooks @opentelemetry/core, and import from "tako" and "tako/otel").
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { accessLog, requestId, Router, Server, shutdownOnSignals, TcpListener } from "../../src/index.ts";
import { instrument } from "../../src/otel/index.ts";

// 1. The SDK, as any OpenTelemetry application sets it up (here: export to the console).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }));
const metricInterval = Number(process.env.METRIC_INTERVAL ?? "10000");
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: metricInterval })] });
metrics.setGlobalMeterProvider(meterProvider);

// 2. tako's instrumentation: spans and metrics for every request any tako server here serves.
instrument({ ignore: (req) => req.path === "/livez" });
// 3. An access log line per request, with the status sent and the request id (no logger bundled).
accessLog((e) => console.log(`access ${e.remoteAddress} "${e.method} ${e.path}" ${e.status} ${e.duration.toFixed(1)}ms id=${e.requestId ?? "-"}`));

const tracer = trace.getTracer("otel-console-example");
const router = new Router().health();
router.middleware(requestId());
router.get("/orders/{id}", async (req) => {
  // Handlers run in the server span's context: this span is its child.
  const span = tracer.startSpan("load order");
  await new Promise((r) => setTimeout(r, 10));
  span.end();
  return { order: req.params.id, requestId: req.id };
});
router.get("/fail", () => {
  throw new Error("something broke");
});

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
const { address, port } = listener.localAddr();
const handle = Server.builder().build().spawnHttp(listener, router);
await shutdownOnSignals(handle);
console.log(`listening on http://${address}:${port}`);
await handle.join();
await meterProvider.shutdown(); // exports the last metrics
console.log("stopped");
