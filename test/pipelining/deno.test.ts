// Pipelining after a malformed request, on Deno: the native server with the defaults, and the
// node:net path that an explicit maxConnections selects.
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("deno", "native");
pipeliningSuite("deno", "socket");
