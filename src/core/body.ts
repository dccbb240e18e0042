import { HttpError } from "./errors.ts";

/** Default request body limit: 1 MiB, enough for JSON APIs, small against memory exhaustion. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The 413 error for a body over `limit` bytes. */
export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes`);
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
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
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

/** A byte stream over `source` that errors with 413 once more than `limit` bytes went through. */
export function limitedStream(source: AsyncIterable<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  let it: AsyncIterator<Uint8Array> | null = null;
  let size = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      it ??= source[Symbol.asyncIterator]();
      const next = await it.next();
      if (next.done === true) return controller.close();
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
