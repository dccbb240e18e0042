// Server-Sent Events on the wire, on node.
import { sseSuite } from "./_suite.ts";

sseSuite("node");
