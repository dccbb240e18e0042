// A drain a load balancer sees (router.health, shutdownDelay), on bun.
import { healthSuite } from "./_suite.ts";

healthSuite("bun");
