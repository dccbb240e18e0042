// TLS suite against the conformance app served by node.
import { tlsSuite } from "./_suite.ts";

tlsSuite("node");
