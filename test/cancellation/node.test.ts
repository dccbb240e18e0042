// Cancellation on the wire, on node.
import { cancellationSuite } from "./_suite.ts";

cancellationSuite("node");
