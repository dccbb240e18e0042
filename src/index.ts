/**
 * tako: one Router served on Node.js, Bun and Deno from the same code, with a production
 * server builder (graceful drain, connection cap, timeouts).
 * @module
 */
export * from "./core/index.ts";
export { DEFAULT_SERVER_CONFIG, type ServerConfig, type AcceptBackoff, type H3Congestion } from "./core/config.ts";
export { TcpListener, type TcpBindOptions } from "./server/tcp-listener.ts";
export { UnixListener, type UnixBindOptions } from "./server/unix-listener.ts";
export type { Listener } from "./server/listener.ts";
export { systemdListeners, type SystemdListener } from "./server/systemd.ts";
export { serve, serveH2c, serveH3, serveTls } from "./server/serve.ts";
export { ReloadableResolver, type WatchOptions } from "./adapters/shared/tls-material.ts";
export { Server, ServerBuilder, type TlsSpawnOptions } from "./server/builder.ts";
export { ServerHandle } from "./server/handle.ts";
export { shutdownOnSignals, type SignalOptions } from "./server/signals.ts";
export { cluster, workerIndex } from "./server/cluster.ts";
export type { ClusterOptions } from "./adapters/shared/cluster.ts";
export type { H2cOptions, ProxyMode, SocketAddr } from "./adapters/engine.ts";
export { readProxyHeader, type ReadProxyOptions } from "./adapters/node/proxy-transport.ts";
export { accessLog, type AccessLogEntry } from "./adapters/shared/access-log.ts";
export {
  CHANNELS,
  RequestMessage,
  type ConnectionMessage,
  type GoawayMessage,
  type DrainMessage,
} from "./adapters/shared/diagnostics.ts";
