// The body deadline on the wire, on Bun: HTTP/1.1 and h2c on Bun.listen with tako's codecs.
import { bodyDeadlineSuite } from "./_suite.ts";

bodyDeadlineSuite("bun");
