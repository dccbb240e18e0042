// Load shedding on node.
import { overloadSuite } from "./_suite.ts";

overloadSuite("node");
