// WebSocket routes on the wire, on node.
import { wsSuite } from "./_suite.ts";

wsSuite("node");
