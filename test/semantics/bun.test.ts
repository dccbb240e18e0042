// Request semantics on the wire, served by Bun: HTTP/1.1, TLS and h2c on Bun.listen with tako's
// codecs.
import { semanticsH2cSuite, semanticsSuite, semanticsTlsSuite } from "./_suite.ts";

semanticsSuite("bun");
semanticsTlsSuite("bun");
semanticsH2cSuite("bun");
