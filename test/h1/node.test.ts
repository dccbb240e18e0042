// HTTP/1.1 wire suite against the contract app served by Node.
import { h1WireSuite } from "./_suite.ts";

h1WireSuite("node");
