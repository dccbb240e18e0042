// Conformance suite against the fixture app served by Bun.
import { conformanceSuite } from "./_suite.ts";

conformanceSuite("bun");
