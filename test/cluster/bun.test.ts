// cluster() on bun.
import { clusterSuite } from "./_suite.ts";

clusterSuite("bun");
