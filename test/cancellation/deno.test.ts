// Cancellation on the wire, on deno.
import { cancellationSuite } from "./_suite.ts";

cancellationSuite("deno");
