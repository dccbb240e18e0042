// WebSocket routes on the wire, on deno.
import { wsSuite } from "./_suite.ts";

wsSuite("deno");
