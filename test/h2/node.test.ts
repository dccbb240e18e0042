// h2c suite against the fixtures served by node.
import { h2cSuite } from "./_suite.ts";

h2cSuite("node");
