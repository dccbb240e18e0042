// Lifecycle on Bun: HTTP/1.1 on Bun.listen with tako's codec (Bun's one HTTP/1.1 path), with the
// defaults.
import { lifecycleSuite } from "./_suite.ts";

lifecycleSuite("bun");
