// Fastify on Node over cleartext HTTP/2 (h2c, prior knowledge): `http2: true` without TLS, so
// Fastify serves through node:http2's createServer() and its req/res compatibility layer.
import { serveFastify } from "./_fastify.ts";

await serveFastify(true);
