// The body deadline on the wire, on Bun: HTTP/1.1 on its node:http, h2c on the node:net path.
import { bodyDeadlineSuite } from "./_suite.ts";

bodyDeadlineSuite("bun");
