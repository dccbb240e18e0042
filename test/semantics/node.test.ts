// Request semantics on the wire, served by Node: HTTP/1.1, TLS and h2c.
import { semanticsH2cSuite, semanticsSuite, semanticsTlsSuite } from "./_suite.ts";

semanticsSuite("node");
semanticsTlsSuite("node");
semanticsH2cSuite("node");
