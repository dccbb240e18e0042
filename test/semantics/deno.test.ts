// Request semantics on the wire, served by Deno: Deno.serve (the defaults) and the node:net path
// for HTTP/1.1; TLS (a plain certificate: Deno.serve) and h2c (Deno.serve).
import { semanticsH2cSuite, semanticsSuite, semanticsTlsSuite } from "./_suite.ts";

semanticsSuite("deno", "native");
semanticsSuite("deno", "socket");
semanticsTlsSuite("deno");
semanticsH2cSuite("deno");
