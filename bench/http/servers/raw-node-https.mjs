// Raw node:https (its defaults, the development certificate) with the same hand-written dispatch
// as raw-node.mjs (_raw-node.mjs).
import { createServer } from "node:https";
import { listen, onRequest } from "./_raw-node.mjs";
import { pem } from "./_tls.ts";

listen(createServer(pem(), onRequest));
