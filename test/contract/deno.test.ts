// The contract suite against the contract fixture served by Deno.
import { contractSuite } from "./_suite.ts";

contractSuite("deno");
