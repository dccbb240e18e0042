// Runs the codec over chunks and records what it reported, in a shape that compares with
// llhttp's (test/http1-codec/_llhttp.ts).
import { Http1ParseError } from "../../src/core/http1/errors.ts";
import { Http1Parser, type Http1ParserOptions, type Http1RequestHead } from "../../src/core/http1/parser.ts";

export interface CollectedRequest {
  head: Http1RequestHead;
  body: Buffer;
  trailers: readonly string[] | null;
  complete: boolean;
}

export interface Collected {
  requests: CollectedRequest[];
  /** The refusal, or null. */
  error: Http1ParseError | null;
  upgrade: boolean;
  consumed: number;
}

/** Feeds `chunks` one after the other to a fresh parser. */
export function collect(chunks: readonly Uint8Array[], options?: Http1ParserOptions): Collected {
  const requests: CollectedRequest[] = [];
  let bodies: Buffer[] = [];
  const parser = new Http1Parser(
    {
      onHead(head) {
        requests.push({ head, body: Buffer.alloc(0), trailers: null, complete: false });
      },
      onBody(bytes) {
        bodies.push(Buffer.from(bytes));
      },
      onComplete(trailers) {
        const req = requests[requests.length - 1]!;
        req.body = Buffer.concat(bodies);
        req.trailers = trailers;
        req.complete = true;
        bodies = [];
      },
    },
    options,
  );
  let consumed = 0;
  let error: Http1ParseError | null = null;
  try {
    for (const chunk of chunks) {
      const n = parser.execute(chunk);
      consumed += n;
      if (n < chunk.length) break;
    }
  } catch (e) {
    if (!(e instanceof Http1ParseError)) throw e;
    error = e;
  }
  const last = requests[requests.length - 1];
  if (last !== undefined && !last.complete) last.body = Buffer.concat(bodies);
  return { requests, error, upgrade: parser.upgraded, consumed };
}

/** `bytes` cut at the given offsets. */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}
