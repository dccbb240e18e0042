/**
 * Runtime-neutral HTTP/2 pieces the engines share: the client preface, the few frames tako
 * writes itself (a refusal before any session exists), the abuse budgets, and the rule for
 * connection-specific headers.
 */

/** The client connection preface (RFC 9113 §3.4) that opens every prior-knowledge h2c connection. */
export const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** RFC 9113 §7 error codes tako sends. */
export const H2_NO_ERROR = 0x0;
export const H2_ENHANCE_YOUR_CALM = 0xb;

/**
 * PING and SETTINGS frames a peer may send on one connection within {@link CONTROL_WINDOW_MS};
 * beyond it the connection gets GOAWAY ENHANCE_YOUR_CALM. An honest client sends a handful
 * (gRPC's bandwidth probes stay far below); a flood answered without limit costs the server an
 * ACK per frame.
 */
export const CONTROL_FRAME_BUDGET = 1000;
export const CONTROL_WINDOW_MS = 10_000;

/**
 * Header fields that are meaningful only for one HTTP/1.1 connection. RFC 9113 §8.2.2 forbids
 * them on HTTP/2, so they are dropped from every HTTP/2 response (`te` is allowed only as
 * `trailers`, which no response carries).
 */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);

/** True for a header name (lower case) that must not be sent on HTTP/2. */
export function isConnectionSpecific(name: string): boolean {
  return CONNECTION_SPECIFIC.has(name);
}

/**
 * How many leading bytes of `chunk` agree with the client preface: `24` is a complete preface,
 * `n < chunk.length` means the connection is not HTTP/2.
 */
export function prefaceMatch(chunk: Uint8Array): number {
  const n = Math.min(chunk.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (chunk[i] !== H2_PREFACE.charCodeAt(i)) return i;
  return n;
}

function frame(type: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload.length << 8);
  out[3] = type;
  out[4] = 0;
  v.setUint32(5, streamId & 0x7fffffff);
  out.set(payload, 9);
  return out;
}

/**
 * The bytes that refuse a connection before any session exists (over `maxConnections`): the
 * server's connection preface (an empty SETTINGS frame), then GOAWAY with last-stream-id 0 and
 * `code`, so the client knows no stream was processed and may retry elsewhere.
 */
export function h2Refusal(code: number, debug: string): Uint8Array {
  const text = new TextEncoder().encode(debug);
  const goaway = new Uint8Array(8 + text.length);
  new DataView(goaway.buffer).setUint32(4, code);
  goaway.set(text, 8);
  const settings = frame(0x4, 0, new Uint8Array(0));
  const away = frame(0x7, 0, goaway);
  const out = new Uint8Array(settings.length + away.length);
  out.set(settings, 0);
  out.set(away, settings.length);
  return out;
}

/**
 * Counts a peer's control frames (PING, SETTINGS) in fixed windows; `hit()` returns true once
 * the budget of the current window is exceeded.
 */
export class FrameBudget {
  #count = 0;
  #windowStart = 0;
  readonly #budget: number;
  readonly #windowMs: number;

  constructor(budget = CONTROL_FRAME_BUDGET, windowMs = CONTROL_WINDOW_MS) {
    this.#budget = budget;
    this.#windowMs = windowMs;
  }

  hit(now: number): boolean {
    if (now - this.#windowStart > this.#windowMs) {
      this.#windowStart = now;
      this.#count = 0;
    }
    return ++this.#count > this.#budget;
  }
}

/**
 * Rapid-reset accounting (CVE-2023-44487) for one connection, tako's
 * `h2MaxPendingAcceptResetStreams`: every stream the peer resets while its handler is still
 * working adds one, every response completed takes one away (never below zero). Past the limit
 * the connection is answered GOAWAY ENHANCE_YOUR_CALM. An honest client that cancels now and
 * then stays far below it; a client that opens and resets streams faster than they are answered
 * climbs to it within `limit` streams.
 */
export class ResetBudget {
  #pending = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** A stream was reset by the peer before its response: true when the limit is exceeded. */
  reset(): boolean {
    return ++this.#pending > this.#limit;
  }

  /** A response completed. */
  completed(): void {
    if (this.#pending > 0) this.#pending--;
  }
}
