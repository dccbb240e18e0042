// Observability (diagnostics channels, tako/otel, requestId, accessLog) on bun.
import { observabilitySuite } from "./_suite.ts";

observabilitySuite("bun");
