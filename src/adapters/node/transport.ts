import type { Socket } from "node:net";
import type { ServerConfig } from "../../core/config.ts";
import { H2_PREFACE, prefaceMatch } from "../../core/h2.ts";
import type { Serving } from "../../server/engine.ts";
import type { NodeAcceptor, Refuse } from "./listener.ts";

/**
 * A protocol served over connections a {@link NodeAcceptor} accepted: HTTP/1.1, h2c, or both
 * on one port. The acceptor owns accept, tracking and the connection cap; the transport owns
 * the protocol and its graceful drain.
 */
export interface Transport {
  /** Answers a connection over `maxConnections` in this protocol. */
  readonly refuse: Refuse;
  /** Takes an accepted, tracked connection. */
  accept(socket: Socket): void;
  /** Graceful drain of its connections (the listener has already stopped accepting). Idempotent. */
  drain(): void;
  /** Releases timers and native servers once the last connection is gone. */
  close(): void;
}

/** Runs `transport` on the acceptor's connections: the lifecycle shared by every Node transport. */
export function serveTransport(acceptor: NodeAcceptor, transport: Transport, config: ServerConfig): Serving {
  acceptor.attach((socket) => transport.accept(socket), config.maxConnections, config.acceptBackoff, transport.refuse);
  acceptor.closed.then(() => transport.close());
  return {
    closed: acceptor.closed,
    ready: Promise.resolve(),
    drain() {
      acceptor.stopAccepting();
      transport.drain();
    },
    forceClose() {
      acceptor.stopAccepting();
      acceptor.destroyAll();
    },
  };
}

/**
 * One cleartext port for both HTTP/1.1 and prior-knowledge h2c: each connection's first bytes
 * are compared with the HTTP/2 client preface, then the connection goes to the matching
 * transport with the bytes read so far put back in front of its stream. A connection that
 * sends nothing decisive within `headerReadTimeout` is closed.
 */
export function sniffingTransport(h1: Transport, h2: Transport, config: ServerConfig, emulated: boolean): Transport {
  return {
    refuse: (socket) => sniff(socket, 1000, emulated, (isH2) => (isH2 ? h2 : h1).refuse(socket)),
    accept: (socket) => sniff(socket, config.headerReadTimeout, emulated, (isH2) => (isH2 ? h2 : h1).accept(socket)),
    drain() {
      h1.drain();
      h2.drain();
    },
    close() {
      h1.close();
      h2.close();
    },
  };
}

function sniff(socket: Socket, timeoutMs: number | null, emulated: boolean, decide: (isH2: boolean) => void): void {
  let seen: Buffer | null = null;
  const timer = timeoutMs === null ? null : setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer): void => {
    seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const match = prefaceMatch(seen);
    if (match === H2_PREFACE.length) finish(true);
    else if (match < seen.length) finish(false);
  };
  const onEnd = (): void => finish(false);
  const finish = (isH2: boolean): void => {
    if (timer !== null) clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.pause();
    if (seen !== null) socket.unshift(seen);
    decide(isH2);
    // node:http attaches a 'data' listener but leaves a paused socket paused. Node's node:http2
    // reads the put-back bytes itself on the next tick (flowing now would drop them); Bun's and
    // Deno's read the socket as a stream and need it flowing.
    if (!isH2 || emulated) socket.resume();
  };
  socket.on("data", onData);
  socket.once("end", onEnd);
}
