// Request semantics on the wire, served by Bun: HTTP/1.1 on Bun's node:http (the defaults) and on
// the node:net path (an explicit acceptBackoff); TLS and h2c (both on the node:net path).
import { semanticsH2cSuite, semanticsSuite, semanticsTlsSuite } from "./_suite.ts";

semanticsSuite("bun", "native");
semanticsSuite("bun", "socket");
semanticsTlsSuite("bun");
semanticsH2cSuite("bun");
