/**
 * The runtime-neutral core: routing, the request view, responders and errors. Importable on
 * its own (`tako/core`) to mount a router in any fetch-style host through `router.fetch`.
 * @module
 */
export { Method, METHODS, isKnownMethod } from "./method.ts";
export { HttpError, TakoError, type TakoErrorCode } from "./errors.ts";
export { Router, RouteHandle, type RouterOptions, type RouteMatch } from "./router/router.ts";
export type { Handler, Middleware, Next, ErrorHook, AnyRequest, Dispatcher, FetchObserver } from "./router/types.ts";
export type { Params, ParamNames } from "./router/pattern.ts";
export type { HealthOptions, HealthCheck, CheckOutcome } from "./router/health.ts";
export { TakoRequest } from "./request.ts";
export { requestId, isValidRequestId, type RequestIdOptions } from "./router/request-id.ts";
export { FetchRequest } from "./fetch-request.ts";
export { DEFAULT_BODY_LIMIT } from "./body.ts";
export { Reply, json, text, html, redirect, type HeaderMap, type ReplyBody, type ReplyInit, type Responder } from "./response.ts";
export { WsSocket, WS_DEFAULTS, type WsData, type WsHandlers, type WsOptions } from "./websocket/index.ts";
export { sse, formatEvent, type SseEvent, type SseOptions } from "./sse.ts";
export { toReply, toFetchResponse, errorReply, type HandlerResult } from "./responder.ts";
export type { ConnInfo, ConnFamily, HttpVersion, TlsInfo, PeerCertificate } from "./conn-info.ts";
export { TlsCert, ClientAuth, SniResolver, type CertResolver, type CertSource } from "./tls.ts";
export {
  parseProxyHeader,
  mayBeProxyHeader,
  crc32c,
  ProxyProtocolError,
  PROXY_V1_MAX,
  PROXY_V2_MAX_ADDRESS_BYTES,
  PROXY_V2_SIGNATURE,
  type ProxyHeader,
  type ProxySsl,
  type ProxyTlv,
  type ParseOptions,
  type ParseResult,
} from "./proxy-protocol/index.ts";
