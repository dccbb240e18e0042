import type { TlsInfo } from "../../core/conn-info.ts";
import type { H1Conn } from "./h1-conn.ts";

/**
 * The socket a raw-socket connection ({@link H1Conn}, its `Outbox`, its WebSocket tunnel) runs
 * on: what a `Bun.listen` socket offers, which satisfies it as it is (no wrapper on Bun's hot
 * path), and what the Deno engine's `DenoWireSocket` gives a `Deno.Conn`. Events come back as
 * calls on the connection: `data`, `drain` (after a short {@link write}), `ended` (the peer's
 * FIN), `closed`.
 */
export interface WireSocket {
  /** Writes what the socket takes now: the bytes taken (`-1` when closed); the rest is the caller's to write again on `drain`. */
  write(data: Uint8Array): number;
  /** Flushes, then FIN; the socket closes once the peer has ended too (or is cut by the caller). */
  end(): void;
  /** Sends FIN once what was written is out; the read side stays open. */
  shutdown(): void;
  /** Closes at once (unsent bytes are dropped). */
  terminate(): void;
  /** Stops reading (no more `data` until `resume`; a read under way may still deliver). */
  pause(): void;
  resume(): void;
  /**
   * A response is on its way: the next read may wait until it has been written (at the latest
   * until the event loop's next turn). Where reads are ops issued one at a time (Deno), a read
   * issued before the response finds nothing and costs a second system call when the next
   * request comes; a runtime that reads on readiness (Bun) has no such method.
   */
  deferRead?(): void;
  setNoDelay(noDelay: boolean): boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteFamily: string | undefined;
}

/**
 * Where a raw socket's events go: the connection ({@link H1Conn}), or a layer over the socket
 * (TLS run in JavaScript) that passes them on.
 */
export interface WireEvents {
  /** Bytes read (the runtime may reuse the buffer after the call). */
  data(chunk: Uint8Array): void;
  /** The socket takes writes again after a short one. */
  drain(): void;
  /** The peer sent FIN. */
  ended(): void;
  /** The socket closed (either side, or reset). */
  closed(): void;
}

/** The settings a {@link WireTls} chose for one handshake (the runtime's own form). */
export type TlsChoice = object;

/** The application protocols a connection may speak after a TLS handshake, as ALPN names them. */
export type AlpnProtocol = "http/1.1" | "h2";

/**
 * TLS on a connection's raw socket, the runtime's part: Bun upgrades the socket in place
 * (`upgradeTLS`); a `Deno.listenTls` connection runs its handshake. Either way the outcome
 * reaches the connection as `handshake(ok, error)`.
 */
export interface WireTls {
  /**
   * Set when the certificate is chosen by the server name of the client's ClientHello before the
   * handshake starts (a resolver): the connection reads the hello first (`readClientHello`), asks
   * `choose(name)` (`null`: no SNI) for the settings, which may take time (a resolver's promise),
   * and then calls {@link upgrade} with them and every byte read. Throws or rejects when there is
   * no certificate for the name. Absent: the handshake starts at once.
   */
  readonly choose?: (serverName: string | null) => TlsChoice | Promise<TlsChoice>;
  /**
   * Starts the handshake on `conn`'s socket, `initial` (bytes read already) first, with `choice`
   * ({@link choose}'s answer) when there is one; throws when it cannot start.
   */
  upgrade(conn: H1Conn, initial?: Uint8Array, choice?: TlsChoice): void;
  /** After a handshake that succeeded: why the connection is refused, or the protocol it speaks. */
  settle(socket: WireSocket): Error | AlpnProtocol;
  /** `req.conn.tls` once the handshake is done. */
  info(socket: WireSocket): TlsInfo;
  /** Descriptors each connection holds (the default cap counts them); absent: one. */
  readonly descriptors?: number;
}
