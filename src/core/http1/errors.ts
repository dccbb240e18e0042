import { HttpError } from "../errors.ts";

/**
 * Why the codec refused a request, in llhttp's vocabulary (the `code` Node puts on its
 * `clientError`), so logs and tests read the same on every runtime.
 */
export type Http1ErrorCode =
  | "HPE_INVALID_METHOD"
  | "HPE_INVALID_URL"
  | "HPE_INVALID_CONSTANT"
  | "HPE_INVALID_VERSION"
  | "HPE_CR_EXPECTED"
  | "HPE_LF_EXPECTED"
  | "HPE_INVALID_HEADER_TOKEN"
  | "HPE_UNEXPECTED_SPACE"
  | "HPE_HEADER_OVERFLOW"
  | "HPE_INVALID_CONTENT_LENGTH"
  | "HPE_UNEXPECTED_CONTENT_LENGTH"
  | "HPE_INVALID_TRANSFER_ENCODING"
  | "HPE_INVALID_CHUNK_SIZE"
  | "HPE_STRICT"
  | "HPE_CHUNK_EXTENSIONS_OVERFLOW"
  | "HPE_INVALID_EOF_STATE"
  | "HPE_CLOSED_CONNECTION";

/** The statuses a refused request head or body is answered with. */
export type Http1ErrorStatus = 400 | 413 | 431 | 505;

/**
 * A request the HTTP/1.1 codec refuses. An {@link HttpError} (status, reason, `Connection:
 * close`), so the responder answers it like any other refusal; `code` says which rule.
 * The connection cannot be trusted to frame another request after it: close it.
 */
export class Http1ParseError extends HttpError {
  readonly code: Http1ErrorCode;

  constructor(code: Http1ErrorCode, status: Http1ErrorStatus, reason: string) {
    super(status, reason, { connection: "close" });
    this.name = "Http1ParseError";
    this.code = code;
  }
}
