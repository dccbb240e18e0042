// h2c suite against the conformance app served by bun.
import { h2cSuite } from "./_suite.ts";

h2cSuite("bun");
