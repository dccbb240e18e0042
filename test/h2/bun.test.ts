// h2c suite against the fixtures served by bun.
import { h2cSuite } from "./_suite.ts";

h2cSuite("bun");
