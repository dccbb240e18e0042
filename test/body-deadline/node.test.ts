// The body deadline on the wire, on Node.js.
import { bodyDeadlineSuite } from "./_suite.ts";

bodyDeadlineSuite("node");
