// Pipelining after a malformed request, on Node.js.
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("node");
