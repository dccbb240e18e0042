// Pipelining after a malformed request, on Deno: tako's codec on Deno.listen (cleartext HTTP/1.1
// has no node:net path on Deno any more: every field is honoured there).
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("deno");
