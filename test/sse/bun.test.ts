// Server-Sent Events on the wire, on bun.
import { sseSuite } from "./_suite.ts";

sseSuite("bun");
