// h2c suite against the conformance app served by node.
import { h2cSuite } from "./_suite.ts";

h2cSuite("node");
