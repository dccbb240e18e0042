// tako over HTTP/1.1 with tako/otel's instrument() and the OpenTelemetry SDK as an application
// sets it up (AsyncLocalStorage context manager, W3C propagator, a batch span processor, a meter
// provider), exporting nowhere: the cost of a span and the metrics per request, not of an exporter.
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { Server } from "../../../src/index.ts";
import { instrument } from "../../../src/otel/index.ts";
import { serveTako } from "./_tako.ts";

const discard: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] }));
metrics.setGlobalMeterProvider(new MeterProvider());
instrument();
await serveTako((listener, router) => Server.builder().build().spawnHttp(listener, router));
