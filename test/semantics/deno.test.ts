// Request semantics on the wire, served by Deno (one path: Deno's own HTTP server on each
// accepted connection, whatever fields are set): HTTP/1.1, TLS and h2c.
import { semanticsH2cSuite, semanticsSuite, semanticsTlsSuite } from "./_suite.ts";

semanticsSuite("deno");
semanticsTlsSuite("deno");
semanticsH2cSuite("deno");
