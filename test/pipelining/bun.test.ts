// Pipelining after a malformed request, on Bun: HTTP/1.1 on Bun.listen with tako's codec (Bun's
// one HTTP/1.1 path).
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("bun");
