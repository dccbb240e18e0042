// Load shedding on bun.
import { overloadSuite } from "./_suite.ts";

overloadSuite("bun");
