// Pipelining after a malformed request, on Bun: HTTP/1.1 on Bun's node:http with the defaults,
// and the node:net path that an explicit acceptBackoff selects.
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("bun", "native");
pipeliningSuite("bun", "socket");
