import type { ServerConfig } from "./config.ts";
import { HttpError } from "./errors.ts";

/**
 * A request body's deadline (`ServerConfig.bodyReadTimeout` and `bodyMinRate`): `timeout` ms,
 * plus one second per `minRate` bytes received, counted only while the server waits for body
 * bytes. Engines hand it to their requests ({@link TakoRequest}'s `bodyDeadline`).
 */
export interface BodyDeadline {
  readonly timeout: number;
  readonly minRate: number | null;
}

/** The body deadline of `config`, decided once per server; `null` when `bodyReadTimeout` is off. */
export function bodyDeadline(config: ServerConfig): BodyDeadline | null {
  return config.bodyReadTimeout === null ? null : Object.freeze({ timeout: config.bodyReadTimeout, minRate: config.bodyMinRate });
}

/** Default request body limit: 1 MiB, enough for JSON APIs, small against memory exhaustion. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The 413 error for a body over `limit` bytes. */
export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes`);
}

/**
 * The error for a request body that could not be read to its end: the client reset the
 * connection or the stream, or sent a broken body. It is the client's doing, so a 400 (which
 * the router's error hook never sees), not a server error. An `HttpError` (the 413 of a limit)
 * stays as it is.
 */
export function bodyAborted(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new HttpError(400, `request body aborted: ${why.slice(0, 200)}`);
}

/**
 * `bodyAborted` for a promise's rejection, except a `TypeError`: reading a body twice, or after
 * the native request was consumed by hand, is a programming error, not the client's.
 */
export function rejectBody(error: unknown): never {
  throw error instanceof TypeError ? error : bodyAborted(error);
}

/**
 * Rejects early when the declared `Content-Length` is over the limit, so an oversized upload
 * is refused before a byte of it is buffered.
 */
export function checkDeclaredLength(contentLength: string | null, limit: number): void {
  if (contentLength !== null && Number(contentLength) > limit) throw tooLarge(limit);
}

/** Buffers a body, failing with 413 as soon as it passes `limit` bytes. */
export async function readAll(source: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (error) {
    rejectBody(error);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * A byte stream over `source` that errors with 413 once more than `limit` bytes went through,
 * and with a 400 (`bodyAborted`) when the source fails (the client went away mid-upload) or
 * ends short of the `declared` Content-Length (a reset some runtimes end the body on as if it
 * were complete: Deno.serve's HTTP/2, measured).
 */
export function limitedStream(source: AsyncIterable<Uint8Array>, limit: number, declared: number | null = null): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array> | null = null;
  let size = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      it ??= source[Symbol.asyncIterator]();
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch (error) {
        controller.error(error instanceof TypeError ? error : bodyAborted(error));
        return;
      }
      if (next.done === true) {
        if (declared !== null && size < declared) return controller.error(shortBody(size, declared));
        return controller.close();
      }
      size += next.value.byteLength;
      if (size > limit) {
        controller.error(tooLarge(limit));
        await it.return?.();
        return;
      }
      controller.enqueue(next.value);
    },
    async cancel() {
      await it?.return?.();
    },
  });
}

/** The 400 for a body that ended before its declared length. */
export function shortBody(size: number, declared: number): HttpError {
  return bodyAborted(new Error(`the body ended after ${size} of its ${declared} declared bytes`));
}

/** The declared Content-Length as a number, or `null` without one (or with one that is not a plain number). */
export function declaredLength(contentLength: string | null): number | null {
  if (contentLength === null) return null;
  const n = Number(contentLength);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
