import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { Duplex } from "node:stream";
import { TakoError } from "../../core/errors.ts";

/**
 * The optional peer dependency that serves HTTP/3 on Node.js and Deno: quiche (QUIC and HTTP/3)
 * behind a Node-API addon, prebuilt for Linux x64/arm64 (glibc) and macOS arm64. Loaded only by
 * `serveH3`, so installing tako never needs it. The version tako is tested with is in
 * package.json (devDependencies); peerDependencies accepts its patch releases.
 */
export const H3_ADDON = "@currentspace/http3";
const H3_ADDON_VERSION = "0.9.0";

/** The headers of a request or response stream: lower-case names, pseudo-headers included. */
export type AddonHeaders = Record<string, string | string[]>;

/**
 * The few members of the addon's request stream (`ServerHttp3Stream`, a Duplex) that tako uses.
 * Declared here, not imported, so tako's types never depend on an optional package.
 */
export interface AddonStream extends Duplex {
  /** Response headers, with FIN when `endStream`. Values must be strings. */
  respond(headers: AddonHeaders, options?: { endStream?: boolean }): void;
  /** Headers, the whole body and FIN in one call into the addon. */
  respondWithBody(headers: AddonHeaders, body: Buffer | string): void;
  /** Ends the stream with an HTTP/3 error code (RESET_STREAM / STOP_SENDING), then destroys it. */
  close(code?: number): void;
  /** The QUIC connection the stream belongs to (the addon's handle; matches its session's). */
  readonly _connHandle: number;
}

/** One QUIC connection as the addon reports it. */
export interface AddonSession extends EventEmitter {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The SNI name the client sent ("" when it sent none, e.g. connecting to an IP address). */
  readonly serverName: string;
  readonly alpnProtocol: string;
  /** CONNECTION_CLOSE with `code` (an HTTP/3 error code); resolves once the session is closed. */
  close(code?: number, reason?: string): Promise<void>;
  readonly _connHandle: number;
}

/** The options of the addon's server that tako sets. */
export interface AddonServerOptions {
  key: string;
  cert: string;
  maxIdleTimeoutMs?: number;
  initialMaxStreamsBidi?: number;
  enableDatagrams?: boolean;
  disableRetry?: boolean;
  maxConnections?: number;
}

/** The addon's HTTP/3 server (`Http3SecureServer`). */
export interface AddonServer extends EventEmitter {
  listen(port: number, host: string): unknown;
  close(): Promise<void>;
  address(): { address: string; family: string; port: number } | null;
}

/** What tako imports from the addon. */
export interface H3Addon {
  createSecureServer(options: AddonServerOptions, onStream: (stream: AddonStream, headers: AddonHeaders, flags: { endStream: boolean }) => void): AddonServer;
}

let loaded: Promise<H3Addon> | null = null;

/**
 * Imports the addon once. Rejects with `TAKO_ERR_UNSUPPORTED` saying what to install when it
 * is missing (or its native binary for this platform is), naming `runtime`. `name`: the module
 * to import (tests pass one that does not exist).
 */
export function loadH3Addon(runtime: string, name: string = H3_ADDON): Promise<H3Addon> {
  if (name !== H3_ADDON) return importAddon(runtime, name);
  loaded ??= importAddon(runtime, name);
  return loaded;
}

async function importAddon(runtime: string, name: string): Promise<H3Addon> {
  let mod: Partial<H3Addon>;
  try {
    mod = (await import(name)) as Partial<H3Addon>;
  } catch (error) {
    throw new TakoError(
      "TAKO_ERR_UNSUPPORTED",
      `HTTP/3 on ${runtime} needs the optional peer dependency ${name}, which could not be loaded (${why(error)}): install it with \`npm install ${name}@${H3_ADDON_VERSION}\` (prebuilt for Linux x64/arm64 with glibc and macOS arm64)`,
      { cause: error },
    );
  }
  if (typeof mod.createSecureServer !== "function") {
    throw new TakoError("TAKO_ERR_UNSUPPORTED", `${name} has no createSecureServer(): tako serves HTTP/3 with ${name}@${H3_ADDON_VERSION}`);
  }
  return mod as H3Addon;
}

const why = (error: unknown): string => (error instanceof Error ? error.message.split("\n")[0]! : String(error));

/**
 * The addon's server also listens on TCP at the same port and serves HTTP/2 there with its own
 * node:http2 server, outside every tako policy (no deadlines, no caps), and a port another
 * process already holds on TCP makes the whole server fail. `spawnH3` serves UDP only (a TCP
 * port is `spawnTls`'s), so that listener is replaced by one that binds nothing. The addon
 * creates it in a method of its own (`_createH2Server`, not public): tako pins the addon's
 * version and fails loudly here if the method is gone, rather than open a TCP port unasked.
 */
export function withoutTcpFallback(server: AddonServer, name: string = H3_ADDON): void {
  const target = server as AddonServer & { _createH2Server?: unknown };
  if (typeof target._createH2Server !== "function") {
    throw new TakoError("TAKO_ERR_UNSUPPORTED", `${name} changed: its server has no _createH2Server() to keep it off TCP; tako serves HTTP/3 with ${name}@${H3_ADDON_VERSION}`);
  }
  target._createH2Server = () => new NoTcpListener();
}

/** Stands in for the addon's HTTP/2 listener: "listens" at once without a socket, closes at once. */
class NoTcpListener extends EventEmitter {
  listen(_port: number, _host: string, ready: () => void): this {
    queueMicrotask(ready);
    return this;
  }
  close(done?: (error?: Error) => void): this {
    queueMicrotask(() => done?.());
    return this;
  }
  unref(): this {
    return this;
  }
}

/**
 * Binds the addon's server. While it builds its QUIC configuration (synchronously, inside
 * `listen`), the addon writes the certificate chain and the private key as PEM to files named
 * after the process id in the temporary directory (`$TMPDIR`), and deletes them once loaded: a
 * predictable path another local user could read, or pre-create as a symlink. So the call runs
 * with `TMPDIR` pointing at a fresh directory only this user can enter (mode 0700), removed
 * right after; `TlsCert.der` and `TlsCert.pem` material still reaches the disk for that moment.
 */
export function listenPrivately(server: AddonServer, port: number, host: string): void {
  const dir = mkdtempSync(join(tmpdir(), "tako-h3-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    server.listen(port, host);
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  }
}
