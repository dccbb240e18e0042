// HTTP/3 suite against the contract app served by Bun (Bun.serve's HTTP/3).
import { h3Suite } from "./_suite.ts";

h3Suite("bun");
