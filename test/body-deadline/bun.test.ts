// The body deadline on the wire, on bun.
import { bodyDeadlineSuite } from "./_suite.ts";

bodyDeadlineSuite("bun");
