// Conformance suite against the fixture app served by Node.
import { conformanceSuite } from "./_suite.ts";

conformanceSuite("node");
