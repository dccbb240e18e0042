import type { Socket } from "node:net";
import type { ServerConfig } from "../../core/config.ts";
import { H2_PREFACE, prefaceMatch } from "../../core/h2.ts";
import { Deadline } from "../shared/deadline.ts";
import { connectionCap } from "../shared/descriptors.ts";
import type { Serving } from "../engine.ts";
import type { NodeAcceptor, Refuse } from "./acceptor.ts";
import type { ServedState } from "./request.ts";

/**
 * A protocol served over connections a {@link NodeAcceptor} accepted: HTTP/1.1, h2c, or both
 * on one port. The acceptor owns accept, tracking and the connection cap; the transport owns
 * the protocol and its graceful drain.
 */
export interface Transport {
  /** Answers a connection over `maxConnections` in this protocol. */
  readonly refuse: Refuse;
  /**
   * How the transport takes a socket whose first bytes were read and put back (after the
   * HTTP/2 preface sniff or a PROXY header): `"flowing"` when it reads through 'data' events
   * (the socket must be resumed), `"paused"` when it reads put-back bytes itself (Node's
   * node:http2 and node:tls, which flowing would rob of them).
   */
  readonly handOff: "flowing" | "paused";
  /** Takes an accepted, tracked connection. */
  accept(socket: Socket): void;
  /** Graceful drain of its connections (the listener has already stopped accepting). Idempotent. */
  drain(): void;
  /** Releases timers and native servers once the last connection is gone. */
  close(): void;
  /**
   * True when the connection has no request in flight, so it may be shed at the connection cap
   * (see `Lifecycle`). Transports without it are never shed: a connection over the cap is refused.
   */
  idle?(socket: Socket): boolean;
}

/** Runs `transport` on the acceptor's connections: the lifecycle kernel with node:net's primitives. */
export function serveTransport(acceptor: NodeAcceptor, transport: Transport, config: ServerConfig, served?: ServedState): Serving {
  const lifecycle = acceptor.lifecycle;
  acceptor.attach(transport, config.acceptBackoff);
  const idle = transport.idle;
  lifecycle.start(
    {
      stopAccepting: () => acceptor.stopAccepting(),
      drainConnections: () => transport.drain(),
      destroyConnections: () => {
        if (served !== undefined) served.forced = true;
        acceptor.destroyAll();
      },
      released: () => transport.close(),
      ...(idle === undefined ? {} : { idle: (socket) => idle(socket as Socket), shed: (socket) => (socket as Socket).destroy() }),
    },
    connectionCap(config),
  );
  return lifecycle;
}

/**
 * One cleartext port for both HTTP/1.1 and prior-knowledge h2c: each connection's first bytes
 * are compared with the HTTP/2 client preface, then the connection goes to the matching
 * transport with the bytes read so far put back in front of its stream. A connection that
 * sends nothing decisive within `headerReadTimeout` is closed.
 */
export function sniffingTransport(h1: Transport, h2: Transport, config: ServerConfig): Transport {
  // Over the cap, the refusal is in the protocol the client opened with.
  const refusing = (t: Transport): Transport => ({ ...t, handOff: "paused", accept: (socket) => t.refuse(socket) });
  const [refuseH1, refuseH2] = [refusing(h1), refusing(h2)];
  const toH2 = new WeakSet<Socket>();
  return {
    handOff: "flowing",
    refuse: (socket) => sniff(socket, 1000, (isH2) => (isH2 ? refuseH2 : refuseH1)),
    accept: (socket) =>
      sniff(socket, config.headerReadTimeout, (isH2) => {
        if (!isH2) return h1;
        toH2.add(socket);
        return h2;
      }),
    drain() {
      h1.drain();
      h2.drain();
    },
    // A socket still being sniffed has sent no request; one handed over is judged by its transport.
    idle: (socket) => (toH2.has(socket) ? (h2.idle?.(socket) ?? false) : (h1.idle?.(socket) ?? false)),
    close() {
      h1.close();
      h2.close();
    },
  };
}

function sniff(socket: Socket, timeoutMs: number | null, decide: (isH2: boolean) => Transport): void {
  let seen: Buffer | null = null;
  const deadline = new Deadline();
  deadline.arm(timeoutMs, () => socket.destroy());
  const onData = (chunk: Buffer): void => {
    seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const match = prefaceMatch(seen);
    if (match === H2_PREFACE.length) finish(true);
    else if (match < seen.length) finish(false);
  };
  const onEnd = (): void => finish(false);
  const finish = (isH2: boolean): void => {
    deadline.clear();
    socket.off("data", onData);
    socket.off("end", onEnd);
    handOff(socket, seen, decide(isH2));
  };
  socket.on("data", onData);
  socket.once("end", onEnd);
}

/**
 * Gives `to` a socket whose first bytes (`seen`) were read: they are put back in front of the
 * stream, in order, and the socket is left flowing or paused as `to` reads it.
 */
export function handOff(socket: Socket, seen: Buffer | null, to: Transport): void {
  socket.pause();
  if (seen !== null && seen.length > 0) socket.unshift(seen);
  to.accept(socket);
  // Resumed a turn later: Deno's node:tls attaches its reader after the 'connection' event
  // returns, and bytes flowing before that are lost (measured: a ClientHello that came in the
  // PROXY header's packet failed 2–13 handshakes in 30 when resumed at once).
  if (to.handOff === "flowing") setImmediate(() => socket.resume());
}
