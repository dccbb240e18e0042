// Pipelining after a malformed request, on Bun: the native server with the defaults (recorded),
// and the node:net path that an explicit maxConnections selects.
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("bun", "native");
pipeliningSuite("bun", "socket");
