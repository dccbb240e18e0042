// TLS suite against the conformance app served by bun with HTTP/2 switched off: TLS on the
// Bun.listen sockets (upgradeTLS) with tako's HTTP/1.1 codec.
import { tlsSuite } from "./_suite.ts";

tlsSuite("bun", { http2: false });
