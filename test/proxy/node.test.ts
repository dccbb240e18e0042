// PROXY protocol suite on node.
import { proxySuite } from "./_suite.ts";

proxySuite("node");
