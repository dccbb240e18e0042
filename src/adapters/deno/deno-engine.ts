import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { DEFAULT_SERVER_CONFIG } from "../../core/config.ts";
import { TakoError } from "../../core/errors.ts";
import { useByteSlabs } from "../../core/bytes.ts";
import type { BindTarget, Engine, EngineListener, ServeSpec, Serving, SocketAddr } from "../engine.ts";
import { serveH3WithAddon } from "../node/h3.ts";
import { AcceptErrorReports, Backoff } from "../shared/backoff.ts";
import type { Lifecycle } from "../shared/lifecycle.ts";
import { applyMode, displayPath } from "../shared/socket-file.ts";
import { loadCert } from "../shared/tls-material.ts";
import { H1Conn } from "../wire/h1-conn.ts";
import { type H1Opening, H1Server } from "../wire/h1-server.ts";
import { type DenoConn, type DenoListener as NativeListener, type DenoNetAddr, deno } from "./deno-api.ts";
import { NodeNetWireSocket } from "./net-socket.ts";
import { DenoNodeTls } from "./node-tls.ts";
import { DenoWireTls } from "./wire-tls.ts";
import { DenoWireSocket } from "./wire-socket.ts";

// Deno allocates a typed array's own buffer slowly: short-lived bytes are cut from slabs (core/bytes.ts).
useByteSlabs(true);

/**
 * What a connection of `spec` opens with. TLS with a plain certificate on a TCP listener bound by
 * `Deno.listen` (`tcp`) runs on `Deno.listenTls` ({@link DenoWireTls}). What `Deno.listenTls`
 * cannot do runs on the plain listener with Deno's node:tls over each connection
 * ({@link DenoNodeTls}): an adopted descriptor, SNI resolvers (tako reads the
 * ClientHello, reports the SNI name and reloads certificates, which Deno's resolver neither
 * shows nor allows), client certificates (`Deno.listenTls` has no client authentication), an
 * explicit `tlsHandshakeTimeout` (a `Deno.listenTls` connection whose handshake stalls could not
 * be closed from JavaScript when measured, Deno 2.9.6), a PROXY header before TLS
 * (`Deno.listenTls` starts the handshake itself), and TLS on a Unix socket (it binds TCP only).
 */
function openingOf(spec: ServeSpec, tcp: boolean): H1Opening {
  const { proxy } = spec;
  if (spec.protocol === "http1") return { proxy, tls: null };
  if (spec.protocol === "h2c") return { proxy, tls: null, http2: spec.http1 ? "sniff" : "only" };
  const { cert, http2 } = spec.tls;
  const native = tcp && proxy.mode === "off" && cert.source.kind !== "resolver" && cert.clientAuth === null && !spec.explicit.has("tlsHandshakeTimeout");
  const node = new DenoNodeTls(spec.tls, tcp);
  return { proxy, tls: native ? new DenoWireTls(http2, node) : node, http2: http2 ? "alpn" : "off" };
}

/**
 * Whether `next` settles before a 0 ms timer (`false`: the timer came first). Deno runs expired
 * timers before it resolves the ops its last I/O poll completed, in the same turn, so one `false`
 * does not mean `next` is still pending: asking again answers after that turn's op results, and a
 * third time after one more poll of the kernel.
 */
function settles(next: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 0, false);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    next.then(done, done);
  });
}

/**
 * Deno engine: a plain `Deno.listen` (TCP, or a Unix path or abstract name) bound at bind time;
 * `serve` starts accepting on it (connections made meanwhile wait in the kernel's backlog: no
 * connect is refused between bind and the drain) and hands each accepted `Deno.Conn`, as a
 * {@link DenoWireSocket}, to the same raw-socket server as Bun's (`wire/H1Server`, `H1Conn`):
 * tako's HTTP/1.1 codec (`core/http1/`) and HTTP/2 codec (h2c from the first byte, or chosen by
 * the client preface next to HTTP/1.1, or by ALPN over TLS), the PROXY header read first in
 * either mode, WebSocket upgrades handed to the `ws` package, and every policy of the lifecycle
 * kernel (cap, deadlines with 408, drain). TLS moves the port from the plain listener to a
 * `Deno.listenTls` once the connections waiting on it are accepted (`#moveToTls`;
 * {@link DenoWireTls} runs each handshake); what
 * `Deno.listenTls` cannot do ({@link openingOf}) stays on the plain listener with Deno's
 * node:tls over each connection ({@link DenoNodeTls}). Accept errors (EMFILE …) back off
 * (`acceptBackoff`) and go on.
 */
class DenoListener implements EngineListener {
  #listener: NativeListener;
  readonly #local: SocketAddr;
  readonly #target: Exclude<BindTarget, { kind: "fd" }>;
  readonly #h1: H1Server;
  #tls = false;
  #backoff: Backoff | null = null;
  /** The accept loop; settles once its pending `accept()` has given the listener back. */
  #accepting: Promise<void> = Promise.resolve();
  #stopped = false;
  #served: Lifecycle<H1Conn> | null = null;

  constructor(target: Exclude<BindTarget, { kind: "fd" }>) {
    this.#target = target;
    if (target.kind === "unix") {
      this.#listener = deno().listen({ transport: "unix", path: target.path });
      try {
        applyMode(target);
      } catch (error) {
        this.#listener.close();
        throw error;
      }
      this.#local = { address: displayPath(target.path), port: 0, family: "unix" };
    } else {
      this.#listener = deno().listen(target.reusePort ? { hostname: target.host, port: target.port, reusePort: true } : { hostname: target.host, port: target.port });
      const addr = this.#listener.addr as DenoNetAddr;
      this.#local = { address: addr.hostname, port: addr.port, family: addr.hostname.includes(":") ? "IPv6" : "IPv4" };
    }
    const local = this.#local;
    this.#h1 = new H1Server(() => ({ local, unixPath: target.kind === "unix" ? local.address : null, stop: () => this.#stopAccepting() }));
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serve(spec: ServeSpec): Serving {
    const opening = openingOf(spec, this.#target.kind === "tcp");
    this.#backoff = new Backoff(spec.config.acceptBackoff);
    const lifecycle = this.#h1.serve(spec.router, spec.config, opening);
    this.#served = lifecycle;
    if (this.#stopped) return lifecycle;
    const backoffInitial = spec.config.acceptBackoff.initial;
    if (spec.protocol === "tls" && opening.tls instanceof DenoWireTls) {
      const material = loadCert(spec.tls.cert);
      const alpnProtocols = spec.tls.http2 ? ["h2", "http/1.1"] : ["http/1.1"];
      const moved = this.#moveToTls(
        () =>
          deno().listenTls({
            hostname: this.#local.address,
            port: this.#local.port,
            ...(this.#target.kind === "tcp" && this.#target.reusePort ? { reusePort: true } : {}),
            cert: material.certPem,
            key: material.keyPem,
            alpnProtocols,
          }),
        backoffInitial,
      );
      this.#accepting = moved.then(
        (done) => (done ? this.#accept(this.#listener, backoffInitial) : undefined),
        () => undefined,
      );
      // Ready once the port is on Deno.listenTls (connections made before are served all the same).
      const ready = Promise.all([lifecycle.ready, moved]).then(() => undefined);
      ready.catch(() => {}); // reported to whoever awaits ready()
      return { closed: lifecycle.closed, ready, drain: () => lifecycle.drain(), forceClose: () => lifecycle.forceClose() };
    }
    this.#accepting = this.#accept(this.#listener, backoffInitial);
    return lifecycle;
  }

  /**
   * Moves the port from the plain listener to `Deno.listenTls` (`listenTls` binds it), with no
   * connection lost on the way: `Deno.listenTls` binds a socket of its own, and closing the plain
   * one resets every connection still queued on it. So the connections queued since bind are
   * accepted first and served with TLS over their own descriptor (the opening's `plain`, node:tls),
   * until an accept has stayed pending over three turns of the event loop (see {@link settles}):
   * a few milliseconds after spawn when nothing waits. Only then is the plain listener
   * closed, and the port bound again at once. A connect can still be reset if it lands in that
   * last turn, between the kernel's last poll and the close, as with any move of the port.
   * Resolves `false` when serving stopped meanwhile; rejects when the port could not be bound
   * again (the server stops accepting; `ready()` rejects with the error).
   */
  async #moveToTls(listenTls: () => NativeListener, backoffInitial: number): Promise<boolean> {
    const plain = this.#listener;
    const backoff = this.#backoff!;
    for (;;) {
      const next = plain.accept();
      const settled = (await settles(next)) || (await settles(next)) || (await settles(next));
      if (this.#stopped) {
        next.then(
          (late) => late.close(),
          () => {},
        );
        return false;
      }
      if (settled) {
        let conn: DenoConn;
        try {
          conn = await next;
        } catch (error) {
          if (isClosed(error)) return false;
          // EMFILE …: paced as in the accept loop; the move waits for descriptors to come back.
          await this.#acceptFailed(error, backoffInitial);
          continue;
        }
        backoff.reset();
        this.#admit(conn, false);
        continue;
      }
      // Nothing queued: the accept under way is cancelled by the close and settles in the
      // next turn (with a connection that came meanwhile, served like the others).
      plain.close();
      const late = await next.catch(() => null);
      if (late !== null) this.#admit(late, false);
      break;
    }
    if (this.#stopped) return false;
    try {
      this.#listener = listenTls();
    } catch (error) {
      void this.#stopAccepting();
      throw error;
    }
    this.#tls = true;
    return true;
  }

  /** Accepts until the listener closes; accept errors (EMFILE …) back off and go on (the first of a streak is logged). */
  async #accept(listener: NativeListener, backoffInitial: number): Promise<void> {
    const backoff = this.#backoff!;
    const tls = this.#tls;
    for (;;) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#stopped) return;
        if (isClosed(error)) return void this.#stopAccepting();
        await this.#acceptFailed(error, backoffInitial);
        if (this.#stopped) return;
        continue;
      }
      backoff.reset();
      this.#admit(conn, tls);
    }
  }

  /** Waits out an accept error (EMFILE …) by the backoff; the first of a streak is logged. */
  #acceptFailed(error: unknown, backoffInitial: number): Promise<void> {
    const delay = this.#backoff!.next();
    if (delay === backoffInitial) console.error(`tako: accept failed (${error instanceof Error ? error.message : String(error)}); retrying in ${delay} ms`);
    return new Promise((resolve) => setTimeout(resolve, delay));
  }

  /** Hands an accepted connection to the server; `tls`: a `Deno.TlsConn` (nothing to read before its handshake). */
  #admit(conn: DenoConn, tls: boolean): void {
    const socket = new DenoWireSocket(conn, !tls);
    const c = new H1Conn(socket, this.#h1, Date.now());
    socket.data = c;
    this.#h1.accept(c);
    socket.start();
  }

  /** Stops accepting; settles once the listener is closed. */
  #stopAccepting(): Promise<void> {
    this.#stopped = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    // Deno closes the socket only once the pending accept() has settled: until then a connect is
    // taken by the kernel and then reset (measured, Deno 2.9.6). The listener is closed after it.
    return this.#accepting;
  }

  close(): Promise<void> {
    if (this.#served !== null) {
      this.#served.forceClose();
      return this.#served.closed;
    }
    this.#h1.abandon();
    return this.#accepting;
  }
}

/**
 * A listening socket inherited as a descriptor (`TcpListener.fromFd`, systemd), which
 * `Deno.listen` cannot adopt: Deno's node:net listens on it (from adoption on: connections made
 * before `serve` wait in their parser's stash, as on `Bun.listen`), and each connection, as a
 * {@link NodeNetWireSocket}, goes to the same raw-socket server as a `Deno.listen` one: tako's
 * codecs, PROXY, TLS with Deno's node:tls over the connection ({@link DenoNodeTls}), every
 * policy of the lifecycle kernel. Accept errors are node:net's own to retry.
 */
class DenoFdListener implements EngineListener {
  readonly #server: NetServer;
  readonly #h1: H1Server;
  readonly #local: SocketAddr;
  readonly #unix: boolean;
  #served: Lifecycle<H1Conn> | null = null;
  /** Accept errors: node:net keeps listening and retries; reports paced by `acceptBackoff`. */
  readonly #errors = new AcceptErrorReports(DEFAULT_SERVER_CONFIG.acceptBackoff);

  private constructor(server: NetServer) {
    this.#server = server;
    const a = server.address();
    // A Unix socket adopted from a descriptor has no path node:net can tell: shown as "".
    this.#unix = a === null || typeof a === "string" || typeof a.port !== "number";
    this.#local =
      a !== null && typeof a === "object" && typeof a.port === "number"
        ? { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" }
        : { address: typeof a === "string" ? displayPath(a) : "", port: 0, family: "unix" };
    const local = this.#local;
    this.#h1 = new H1Server(() => ({ local, unixPath: this.#unix ? local.address : null, stop: () => this.#stop() }));
    server.on("connection", (socket: Socket) => {
      this.#errors.accepted();
      const raw = new NodeNetWireSocket(socket, this.#unix);
      const conn = new H1Conn(raw, this.#h1, Date.now());
      raw.data = conn;
      this.#h1.accept(conn);
      raw.start();
    });
  }

  /** Listens on descriptor `fd`; rejects when it is not a listening socket. */
  static adopt(fd: number): Promise<DenoFdListener> {
    return new Promise((resolve, reject) => {
      const server = createNetServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
      server.once("error", reject);
      server.listen({ fd }, () => {
        server.off("error", reject);
        const listener = new DenoFdListener(server);
        server.on("error", (error: Error) => listener.#errors.report(error));
        resolve(listener);
      });
    });
  }

  localAddr(): SocketAddr {
    return this.#local;
  }

  serve(spec: ServeSpec): Serving {
    this.#errors.schedule(spec.config.acceptBackoff);
    const lifecycle = this.#h1.serve(spec.router, spec.config, openingOf(spec, false));
    this.#served = lifecycle;
    return lifecycle;
  }

  #stop(): void {
    if (this.#server.listening) this.#server.close();
  }

  close(): Promise<void> {
    if (this.#served !== null) {
      this.#served.forceClose();
      return this.#served.closed;
    }
    this.#h1.abandon();
    return Promise.resolve();
  }
}

/** The listener was closed (our drain, or `close()`): the accept loop ends. */
function isClosed(error: unknown): boolean {
  const errors = deno().errors;
  return error instanceof errors.BadResource || error instanceof errors.Interrupted;
}

export const denoEngine: Engine = {
  runtime: "deno",
  /**
   * TCP and Unix sockets (paths and abstract names): `Deno.listen`. `reusePort` is an unstable
   * option there: without `--unstable-net` Deno exits the process (code 70) when it is asked,
   * so it is refused first. A descriptor: `Deno.listen` cannot adopt one, Deno's node:net can
   * ({@link DenoFdListener}: its connections on the same raw-socket server).
   */
  async bind(target) {
    if (target.kind === "fd") return DenoFdListener.adopt(target.fd);
    if (target.kind === "tcp" && target.reusePort && deno().listenDatagram === undefined) {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        "TcpListener.bind(addr, { reusePort: true }) on Deno needs the --unstable-net flag (Deno.listen's reusePort is unstable, and without the flag Deno exits the process): run `deno run --unstable-net …`",
      );
    }
    return new DenoListener(target);
  },
  serveH3: (spec) => serveH3WithAddon(spec, "Deno"),
  onSignals(signals, handler) {
    const hooks = signals.map((signal) => {
      const hook = (): void => handler(signal);
      deno().addSignalListener(signal, hook);
      return [signal, hook] as const;
    });
    return () => {
      for (const [signal, hook] of hooks) deno().removeSignalListener(signal, hook);
    };
  },
};
