// Raw node:http with hand-written dispatch (_raw-node.mjs): what a careful user writes without a
// framework.
import { createServer } from "node:http";
import { listen, onRequest } from "./_raw-node.mjs";

listen(createServer(onRequest));
