// Fastify on Node over HTTP/1.1 with its defaults (no logger, built-in JSON body parser).
import { serveFastify } from "./_fastify.ts";

await serveFastify(false);
