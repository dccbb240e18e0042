import type { Dispatcher } from "../core/router/router.ts";

/** An address a listener is bound to. */
export interface SocketAddr {
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
}

/** A running transport on a bound socket. */
export interface Serving {
  /** Resolves when the server has stopped. */
  readonly closed: Promise<void>;
}

/**
 * A bound TCP socket as a runtime engine holds it. Binding happens first (so port 0 is known
 * before anything is served); serving attaches a transport to the bound socket.
 */
export interface BoundSocket {
  localAddr(): SocketAddr;
  /** Serves HTTP/1.1 with keep-alive on this socket. Called at most once. */
  serveHttp(router: Dispatcher): Serving;
  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** What each runtime folder provides. */
export interface Engine {
  readonly runtime: "node" | "bun" | "deno";
  bind(host: string, port: number): Promise<BoundSocket>;
}

/** The runtime this code runs on. */
export function detectRuntime(): Engine["runtime"] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

let engine: Promise<Engine> | null = null;

/** Loads the engine for the current runtime once; the others are never imported. */
export function loadEngine(): Promise<Engine> {
  if (engine === null) {
    const runtime = detectRuntime();
    engine =
      runtime === "bun"
        ? import("../adapters/bun/engine.ts").then((m) => m.bunEngine)
        : runtime === "deno"
          ? import("../adapters/deno/engine.ts").then((m) => m.denoEngine)
          : import("../adapters/node/engine.ts").then((m) => m.nodeEngine);
  }
  return engine;
}
