import type { IncomingMessage } from "node:http";
import type { ConnInfo } from "../../core/conn-info.ts";
import { pathStart } from "../../core/fetch-request.ts";
import { TakoRequest } from "../../core/request.ts";

/** Connection facts read from the socket when a handler first asks. */
class NodeConnInfo implements ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly httpVersion = "1.1" as const;
  readonly tls = null;
  readonly proxy = null;
  constructor(req: IncomingMessage) {
    const s = req.socket;
    this.remoteAddress = s.remoteAddress ?? "";
    this.remotePort = s.remotePort ?? 0;
    this.localAddress = s.localAddress ?? "";
    this.localPort = s.localPort ?? 0;
  }
}

/**
 * The request view over `IncomingMessage`: method and target are read straight from it; the
 * Fetch `Headers` and the connection facts are built only when a handler touches them.
 */
export class NodeRequest extends TakoRequest {
  readonly native: IncomingMessage;
  #headers: Headers | null = null;
  #conn: ConnInfo | null = null;

  constructor(native: IncomingMessage) {
    super();
    this.native = native;
  }

  get method(): string {
    return this.native.method!;
  }

  get target(): string {
    const url = this.native.url!;
    // Origin-form ("/path") is the common case: one char compare, no copy.
    if (url.charCodeAt(0) === 47) return url;
    const at = pathStart(url);
    return at === 0 ? url : at === url.length ? "/" : url.slice(at);
  }

  get conn(): ConnInfo {
    return (this.#conn ??= new NodeConnInfo(this.native));
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      const raw = this.native.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) h.append(raw[i]!, raw[i + 1]!);
      this.#headers = h;
    }
    return this.#headers;
  }

  header(name: string): string | null {
    const value = this.native.headers[name.toLowerCase()];
    if (value === undefined) return null;
    return typeof value === "string" ? value : value.join(", ");
  }

  protected bodySource(): AsyncIterable<Uint8Array> | null {
    const h = this.native.headers;
    if (h["transfer-encoding"] === undefined && (h["content-length"] === undefined || h["content-length"] === "0")) return null;
    return this.native;
  }
}
