// TLS suite against the conformance app served by deno.
import { tlsSuite } from "./_suite.ts";

tlsSuite("deno");
