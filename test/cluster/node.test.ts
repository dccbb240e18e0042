// cluster() on node.
import { clusterSuite } from "./_suite.ts";

clusterSuite("node");
