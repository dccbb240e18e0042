// Request semantics on the wire, served by Bun: Bun.serve (the defaults) and the node:net path
// for HTTP/1.1; TLS and h2c (both on the node:net path).
import { semanticsH2cSuite, semanticsSuite, semanticsTlsSuite } from "./_suite.ts";

semanticsSuite("bun", "native");
semanticsSuite("bun", "socket");
semanticsTlsSuite("bun");
semanticsH2cSuite("bun");
