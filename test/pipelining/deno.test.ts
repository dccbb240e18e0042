// Pipelining after a malformed request, on Deno (one path whatever fields are set).
import { pipeliningSuite } from "./_suite.ts";

pipeliningSuite("deno", "native");
