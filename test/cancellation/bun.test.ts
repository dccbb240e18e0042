// Cancellation on the wire, on bun.
import { cancellationSuite } from "./_suite.ts";

cancellationSuite("bun");
