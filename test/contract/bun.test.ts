// The contract suite against the contract fixture served by Bun.
import { contractSuite } from "./_suite.ts";

contractSuite("bun");
