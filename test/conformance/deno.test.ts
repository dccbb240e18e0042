// Conformance suite against the fixture app served by Deno.
import { conformanceSuite } from "./_suite.ts";

conformanceSuite("deno");
