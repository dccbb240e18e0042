// Observability (diagnostics channels, tako/otel, requestId, accessLog) on deno.
import { observabilitySuite } from "./_suite.ts";

observabilitySuite("deno");
