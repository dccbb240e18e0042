import type { IncomingMessage } from "node:http";
import type { H1Request } from "./h1-request.ts";

/** The request headers `ws`'s `handleUpgrade` reads (RFC 6455 §4.2.1; the origin only with `verifyClient`, not used). */
const HANDSHAKE_HEADERS = ["upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions"] as const;

/**
 * The upgrading request as `ws` reads it from node:http: `method` and lower-cased `headers`
 * (repeated fields joined with ", ", as node:http does). `ws` reads nothing else of it in
 * `noServer` mode without `verifyClient` (ws 8: `handleUpgrade`, `completeUpgrade`), and hands
 * it back to `handleProtocols`, where it is the key of the route's selected subprotocol.
 */
export function handshakeHead(req: H1Request): IncomingMessage {
  const headers: Record<string, string> = {};
  for (const name of HANDSHAKE_HEADERS) {
    const value = req.header(name);
    if (value !== null) headers[name] = value;
  }
  return { method: req.method, url: req.target, headers } as unknown as IncomingMessage;
}
