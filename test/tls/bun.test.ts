// TLS suite against the conformance app served by bun.
import { tlsSuite } from "./_suite.ts";

tlsSuite("bun");
