import type { ServerConfig } from "../../core/config.ts";
import { JSON_TYPE, TEXT_TYPE } from "../../core/responder.ts";
import type { H2ServerFacts } from "./h2-conn.ts";

/** The HTTP/2 limits and deadlines of `config`, as {@link H2ServerFacts} carries them (`Infinity`: off). */
export function h2Limits(config: ServerConfig): Pick<H2ServerFacts, "h2Options" | "h2FirstHead" | "h2Idle" | "h2Ping"> {
  return {
    h2Options: {
      maxConcurrentStreams: config.h2MaxConcurrentStreams,
      maxHeaderListSize: config.h2MaxHeaderListSize,
      maxSendBufSize: config.h2MaxSendBufSize,
      maxPendingAcceptResetStreams: config.h2MaxPendingAcceptResetStreams,
    },
    h2FirstHead: config.headerReadTimeout ?? Infinity,
    h2Idle: config.keepAliveTimeout ?? Infinity,
    h2Ping: config.h2KeepAliveInterval ?? Infinity,
  };
}

/**
 * The `date` field at `now` (ms since epoch), and the fields of a text and a JSON response with
 * it: frozen, so the HTTP/1.1 serializer may keep their bytes (`core/http1/response.ts`).
 */
export function dateFields(now: number): Pick<H2ServerFacts, "dateHeader" | "textHeaders" | "jsonHeaders"> {
  const date = new Date(now).toUTCString();
  return {
    dateHeader: Object.freeze(["date", date]),
    textHeaders: Object.freeze(["content-type", TEXT_TYPE, "date", date]),
    jsonHeaders: Object.freeze(["content-type", JSON_TYPE, "date", date]),
  };
}
