// WebSocket routes on the wire, on bun.
import { wsSuite } from "./_suite.ts";

wsSuite("bun");
