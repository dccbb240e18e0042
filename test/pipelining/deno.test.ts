// Pipelining after a malformed request, on Deno: its own server, and the node:net path that the
// PROXY protocol in "optional" mode selects.
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("deno", "native");
pipeliningSuite("deno", "socket");
