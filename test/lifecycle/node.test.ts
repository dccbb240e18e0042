// Lifecycle on Node.js.
import { lifecycleSuite } from "./_suite.ts";

lifecycleSuite("node");
