// A drain a load balancer sees (router.health, shutdownDelay), on deno.
import { healthSuite } from "./_suite.ts";

healthSuite("deno");
