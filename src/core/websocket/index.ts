/**
 * WebSocket routes (RFC 6455), runtime-neutral: the handshake checks, the options, the socket
 * object handlers see, the idle ping/pong and the per-server registry the drain closes. The
 * frame codec is never ours: engines hand the upgrade to the runtime's WebSocket (the `ws`
 * package on node:http) through a `WsLink`.
 * @module
 */

export { resolveWsOptions, WS_DEFAULTS, type ResolvedWsOptions, type WsOptions } from "./options.ts";
export { WS_GOING_AWAY, WsHub, WsSocket, type WsData, type WsHandlers, type WsLink, type WsPeer } from "./socket.ts";
export { handshakeProblem, selectProtocol, upgradeOf, WsAccept, wsRoute } from "./upgrade.ts";
