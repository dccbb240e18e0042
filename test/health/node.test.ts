// A drain a load balancer sees (router.health, shutdownDelay), on node.
import { healthSuite } from "./_suite.ts";

healthSuite("node");
