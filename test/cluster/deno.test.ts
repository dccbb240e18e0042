// cluster() on deno.
import { clusterSuite } from "./_suite.ts";

clusterSuite("deno");
