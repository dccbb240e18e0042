import { bodyDeadline, type BodyDeadline } from "../../core/body.ts";
import type { ServerConfig } from "../../core/config.ts";
import { SocketConnInfo, type ConnInfo, type TlsInfo } from "../../core/conn-info.ts";
import { HttpError, TakoError } from "../../core/errors.ts";
import type { Dispatcher } from "../../core/router/types.ts";
import type { H3Serving, H3Spec, SocketAddr } from "../engine.ts";
import { requestStart, traceDispatch } from "../shared/diagnostics.ts";
import { Lifecycle } from "../shared/lifecycle.ts";
import { loadCert } from "../shared/tls-material.ts";
import { type AddonServer, type AddonServerOptions, type AddonSession, type AddonStream, H3_ADDON, listenPrivately, loadH3Addon, withoutTcpFallback } from "./h3-addon.ts";
import { H3Request } from "./h3-request.ts";
import { sendH3 } from "./h3-send.ts";
import { type ServedState, servedState } from "./request.ts";

/** RFC 9114 §8.1 error codes tako sends. */
const H3_NO_ERROR = 0x100;
/** A request stream refused before any processing: the client may retry it elsewhere (RFC 9114 §4.1.1). */
const H3_REQUEST_REJECTED = 0x10b;
/** A request without its pseudo-headers (RFC 9114 §4.1.2). */
const H3_MESSAGE_ERROR = 0x10e;

/**
 * The largest request header section served, counted as RFC 9114 §4.2.2 does (name + value +
 * 32 per field): the HTTP/2 default (`h2MaxHeaderListSize`) and Node's HTTP/1.1 limit. The
 * addon decodes any size and advertises no SETTINGS_MAX_FIELD_SECTION_SIZE, so tako answers
 * larger ones 431 itself (the stream is read no further).
 */
const MAX_FIELD_SECTION = 16 * 1024;

/** The RFC 9114 §4.2.2 size of `headers`; stops counting past the limit. */
function fieldSectionSize(headers: Readonly<Record<string, string | string[] | undefined>>): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === "string") size += name.length + value.length + 32;
    else for (const v of value) size += name.length + v.length + 32;
    if (size > MAX_FIELD_SECTION) break;
  }
  return size;
}

/** The addon's cap when tako's `maxConnections` is `null` (it always has one; its default is 10,000). */
const NO_CAP = 2 ** 31 - 1;

/**
 * The `h3*` fields the addon cannot honour: it sets no uni-stream limit of its own choosing
 * (quiche is configured with 1,000) and no congestion controller (quiche's default, CUBIC).
 */
function refuseUnsupported(spec: H3Spec, runtime: string): void {
  const { config, explicit } = spec;
  const refuse = (field: string, why: string): never => {
    throw new TakoError("TAKO_ERR_UNSUPPORTED", `${field} on ${runtime}: ${why}; leave it unset (HTTP/3 here is served by ${H3_ADDON})`);
  };
  if (explicit.has("h3MaxConcurrentUniStreams")) refuse("h3MaxConcurrentUniStreams", `${H3_ADDON} has no setting for it (its QUIC stack advertises initial_max_streams_uni 1000)`);
  if (explicit.has("h3Congestion") && config.h3Congestion !== "cubic")
    refuse(`h3Congestion "${config.h3Congestion}"`, `${H3_ADDON} has no congestion control setting (its QUIC stack, quiche, runs its default, CUBIC)`);
  const source = spec.tls.source.kind;
  if (source === "resolver") refuse("TlsCert.resolver()", `${H3_ADDON} takes one certificate per server, not one per SNI name; use TlsCert.pemPaths, TlsCert.pem or TlsCert.der`);
  if (spec.tls.clientAuth !== null) refuse("withClientAuth()", `${H3_ADDON}'s HTTP/3 server does not verify client certificates`);
}

/** The addon's options for `config`: the `h3*` caps become QUIC transport parameters. */
function addonOptions(spec: H3Spec): AddonServerOptions {
  const { config } = spec;
  const cert = loadCert(spec.tls);
  const options: AddonServerOptions = {
    key: cert.keyPem,
    cert: cert.certPem,
    initialMaxStreamsBidi: config.h3MaxConcurrentBidiStreams,
    enableDatagrams: config.h3EnableDatagrams,
    disableRetry: !config.h3UseRetry,
    maxConnections: config.maxConnections ?? NO_CAP,
  };
  if (config.h3MaxIdleTimeout !== null) options.maxIdleTimeoutMs = config.h3MaxIdleTimeout;
  return options;
}

/** One QUIC connection: its facts (shared by its streams) and open request streams. */
class H3Conn {
  readonly session: AddonSession;
  readonly conn: ConnInfo;
  readonly proxy = null;
  readonly resets = { completed(): void {} };
  readonly bodyDeadline: BodyDeadline | null;
  readonly handlerTimeout: number | null;
  readonly served: ServedState;
  /** Request streams open now. */
  streams = 0;
  /** Set by the drain: the session closes after its last stream. */
  closeWhenIdle = false;

  constructor(session: AddonSession, local: SocketAddr, config: ServerConfig, served: ServedState) {
    this.session = session;
    // QUIC always runs TLS 1.3 (RFC 9001 §4.2); the addon reports neither the cipher nor a client certificate.
    const tls: TlsInfo = { alpnProtocol: session.alpnProtocol || "h3", serverName: session.serverName || null, protocol: "TLSv1.3", cipher: null, peerCertificate: null };
    this.conn = new SocketConnInfo(session.remoteAddress, session.remotePort, local.address, local.port, "3", tls, null, local.family === "IPv6" ? "IPv6" : "IPv4");
    this.bodyDeadline = bodyDeadline(config);
    this.handlerTimeout = config.handlerTimeout;
    this.served = served;
  }

  close(reason: string): Promise<void> {
    return this.session.close(H3_NO_ERROR, reason).catch(() => {});
  }
}

const kConn = Symbol("tako.h3conn");
type TaggedStream = AddonStream & { [kConn]?: H3Conn };

function onStreamClose(this: TaggedStream): void {
  const conn = this[kConn];
  if (conn !== undefined && --conn.streams === 0 && conn.closeWhenIdle) void conn.close("drain");
}

const ignore = (): void => {};

/**
 * Serves HTTP/3 with the optional addon (Node.js and Deno: one implementation). `runtime`
 * names the runtime in messages; `addonName` is the module to load (tests pass a missing one).
 */
export async function serveH3WithAddon(spec: H3Spec, runtime: string, addonName: string = H3_ADDON): Promise<H3Serving> {
  refuseUnsupported(spec, runtime);
  const options = addonOptions(spec);
  const addon = await loadH3Addon(runtime, addonName);
  const served = servedState();
  const lifecycle = new Lifecycle<H3Conn>();
  const conns = new Map<number, H3Conn>();
  const router: Dispatcher = spec.router;
  let draining = false;
  let local: SocketAddr = { address: spec.host, port: spec.port, family: spec.host.includes(":") ? "IPv6" : "IPv4" };

  const server: AddonServer = addon.createSecureServer(options, (stream: TaggedStream, headers, flags) => {
    const conn = conns.get(stream._connHandle);
    stream.on("error", ignore);
    if (conn === undefined || draining) return stream.close(H3_REQUEST_REJECTED);
    if (typeof headers[":method"] !== "string" || typeof headers[":path"] !== "string") return stream.close(H3_MESSAGE_ERROR);
    conn.streams++;
    stream[kConn] = conn;
    stream.on("close", onStreamClose);
    const request = new H3Request(stream, headers, flags.endStream, conn);
    if (fieldSectionSize(headers) > MAX_FIELD_SECTION) {
      return sendH3(stream, router.recover(new HttpError(431, "Request Header Fields Too Large"), request), request, router);
    }
    const result = requestStart.hasSubscribers ? traceDispatch(router, request) : router.dispatch(request);
    if (result instanceof Promise) {
      result.then(
        (value) => sendH3(stream, value, request, router),
        (error: unknown) => sendH3(stream, router.recover(error, request), request, router),
      );
    } else sendH3(stream, result, request, router);
  });
  withoutTcpFallback(server, addonName);

  server.on("session", (session: AddonSession) => {
    const conn = new H3Conn(session, local, spec.config, served);
    session.on("error", ignore);
    if (draining || !lifecycle.admit(conn)) {
      void conn.close(draining ? "draining" : "busy");
      return;
    }
    conns.set(session._connHandle, conn);
    session.once("close", () => {
      conns.delete(session._connHandle);
      lifecycle.release(conn);
      if (draining && lifecycle.size === 0) closeEndpoint();
    });
  });

  let endpointClosing = false;
  /** Closes the UDP endpoint (the addon's worker); `closed` resolves once it has. */
  const closeEndpoint = (): void => {
    if (endpointClosing) return;
    endpointClosing = true;
    clearTimeout(graceTimer);
    server.close().then(
      () => lifecycle.listenerClosed(),
      () => lifecycle.listenerClosed(),
    );
  };
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Closes every connection (CONNECTION_CLOSE H3_NO_ERROR) and then the endpoint. */
  const closeAll = (reason: string): void => {
    const closing: Promise<void>[] = [];
    lifecycle.forEach((conn) => {
      closing.push(conn.close(reason));
    });
    // A session the addon never reports closed must not hold `closed` open.
    const bound = new Promise<void>((resolve) => {
      setTimeout(resolve, 1_000).unref?.();
    });
    void Promise.race([Promise.all(closing), bound]).then(() => {
      lifecycle.forEach((conn) => {
        lifecycle.release(conn);
      });
      closeEndpoint();
    });
  };

  await new Promise<void>((resolve, reject) => {
    const failed = (error: unknown): void => reject(error);
    server.once("error", failed);
    server.once("listening", () => {
      server.off("error", failed);
      resolve();
    });
    try {
      listenPrivately(server, spec.port, spec.host);
    } catch (error) {
      reject(error);
    }
  });
  server.on("error", ignore);
  const bound = server.address();
  if (bound !== null) local = { address: bound.address, port: bound.port, family: bound.family === "IPv6" ? "IPv6" : "IPv4" };

  lifecycle.start({
    // QUIC has no listen queue to close: new connections are closed as they arrive (see 'session').
    stopAccepting: () => {
      draining = true;
    },
    // No GOAWAY: the addon cannot send one. New streams are refused (H3_REQUEST_REJECTED, which a
    // client may retry), idle connections close now, busy ones after their last stream, and all of
    // them at min(h3GoawayGrace, drainTimeout).
    drainConnections: () => {
      lifecycle.forEach((conn) => {
        if (conn.streams === 0) void conn.close("drain");
        else conn.closeWhenIdle = true;
      });
      if (lifecycle.size === 0) return closeEndpoint();
      const grace = Math.min(spec.config.h3GoawayGrace, spec.config.drainTimeout);
      graceTimer = setTimeout(() => closeAll("drain grace over"), grace);
      graceTimer.unref?.();
    },
    destroyConnections: () => {
      served.forced = true;
      closeAll("drain deadline");
    },
  });
  return Object.assign(lifecycle, { localAddr: () => local }) as Lifecycle<H3Conn> & H3Serving;
}
