// llhttp as Node 20 runs it (no lenient flags, Node's default 16 KiB header limit), driven
// through the deprecated `process.binding("http_parser")`: the reference the codec is compared
// with. Only tests import this file.

/** What llhttp made of a byte stream: the requests it completed, then an error or the rest. */
export interface LlhttpResult {
  requests: LlhttpRequest[];
  /** llhttp's error code (`HPE_*`), or null when every byte was taken. */
  error: string | null;
  /** True when parsing stopped at an upgrade (CONNECT or Upgrade + Connection: upgrade). */
  upgrade: boolean;
  /** Bytes llhttp consumed (all of them unless it stopped at an upgrade or an error). */
  consumed: number;
}

export interface LlhttpRequest {
  method: string;
  target: string;
  versionMinor: number;
  versionMajor: number;
  headers: string[];
  keepAlive: boolean;
  upgrade: boolean;
  body: Buffer;
  trailers: string[];
  complete: boolean;
}

interface BindingParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code: string; bytesParsed: number; reason: string });
  finish(): unknown;
  close(): void;
  [key: number]: unknown;
}

interface Binding {
  HTTPParser: {
    new (): BindingParser;
    REQUEST: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
  };
  methods: string[];
}

const emit = process.emitWarning;
process.emitWarning = () => {};
const binding = (process as unknown as { binding(name: string): Binding }).binding("http_parser");
process.emitWarning = emit;
const { HTTPParser, methods } = binding;

/** The methods llhttp accepts in an HTTP request line, as Node lists them. */
export const LLHTTP_METHODS: readonly string[] = methods;

/**
 * Parses `chunks` (delivered one after the other, as a socket would) with a fresh llhttp
 * request parser, the way node:http's server sets it up.
 */
export function llhttpParse(chunks: readonly Uint8Array[], maxHeaderSize = 16384): LlhttpResult {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, maxHeaderSize, 0);
  const requests: LlhttpRequest[] = [];
  let current: LlhttpRequest | null = null;
  let pending: string[] = [];
  let url = "";
  const bodies: Buffer[] = [];
  parser[HTTPParser.kOnHeaders] = (headers: string[], u: string) => {
    pending.push(...headers);
    url += u;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    u: string | undefined,
    _status: unknown,
    _msg: unknown,
    upgrade: boolean,
    keepAlive: boolean,
  ) => {
    const all = headers === undefined ? pending : [...pending, ...headers];
    current = {
      method: methods[method]!,
      target: u === undefined ? url : url + u,
      versionMajor: major,
      versionMinor: minor,
      headers: all,
      keepAlive,
      upgrade,
      body: Buffer.alloc(0),
      trailers: [],
      complete: false,
    };
    pending = [];
    url = "";
    requests.push(current);
  };
  parser[HTTPParser.kOnBody] = (b: Buffer) => {
    bodies.push(Buffer.from(b));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    const req = current as LlhttpRequest | null;
    if (req !== null) {
      req.body = Buffer.concat(bodies);
      req.trailers = pending;
      req.complete = true;
    }
    bodies.length = 0;
    pending = [];
    url = ""; // a trailer flush repeats the last URL
    current = null;
  };
  let consumed = 0;
  let error: string | null = null;
  let upgrade = false;
  for (const chunk of chunks) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const r = parser.execute(buf);
    if (typeof r !== "number") {
      error = r.code;
      consumed += r.bytesParsed;
      break;
    }
    consumed += r;
    const last = requests[requests.length - 1];
    if (r < buf.length || (last?.upgrade === true && last.complete)) {
      upgrade = last?.upgrade === true;
      // Node hides an llhttp error inside the body of an upgrade request: it hands the
      // connection over where parsing stopped. Counted as a refusal here.
      if (!upgrade || !last!.complete) error = upgrade ? "UPGRADE_BODY_ERROR" : "STOPPED";
      break;
    }
  }
  if (current !== null) (current as LlhttpRequest).body = Buffer.concat(bodies);
  parser.close();
  return { requests, error, upgrade, consumed };
}
