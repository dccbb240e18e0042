// The contract suite against the contract fixture served by Node.
import { contractSuite } from "./_suite.ts";

contractSuite("node");
