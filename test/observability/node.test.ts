// Observability (diagnostics channels, tako/otel, requestId, accessLog) on node.
import { observabilitySuite } from "./_suite.ts";

observabilitySuite("node");
