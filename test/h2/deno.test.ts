// h2c suite against the fixtures served by deno.
import { h2cSuite } from "./_suite.ts";

h2cSuite("deno");
