/**
 * tako: one Router served over HTTP/1.1 on Node.js, Bun and Deno from the same code.
 * @module
 */
export * from "./core/index.ts";
export { TcpListener } from "./server/listener.ts";
export { serve } from "./server/serve.ts";
export type { SocketAddr } from "./server/engine.ts";
