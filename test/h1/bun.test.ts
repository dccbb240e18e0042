// HTTP/1.1 wire suite against the contract app served by Bun.
import { h1WireSuite } from "./_suite.ts";

h1WireSuite("bun");
