import type { Socket } from "node:net";

const kUnix = Symbol("tako.unixListener");
type Tagged = Socket & { [kUnix]?: string };

/**
 * Notes on a connection accepted on a Unix listener the listener's path (as tako shows it:
 * `"@name"` for an abstract name). node:net reports no address for either end of a Unix
 * connection, so `req.conn` takes its local address from here.
 */
export function markUnix(socket: Socket, path: string): void {
  (socket as Tagged)[kUnix] = path;
}

/** The Unix listener path a connection came through, or `undefined` for TCP. A TLS socket wraps the accepted one (`_parent`). */
export function unixPathOf(socket: Socket): string | undefined {
  const own = (socket as Tagged)[kUnix];
  if (own !== undefined) return own;
  const parent = (socket as { _parent?: Socket | null })._parent;
  return parent ? (parent as Tagged)[kUnix] : undefined;
}
