/**
 * Short-lived byte arrays cut from shared slabs: a serialized response on its way to the socket,
 * a request body about to be decoded. On V8 (Node, Deno) every `new Uint8Array(n)` or `slice()`
 * allocates its own backing store, ~230–250 ns (Deno builds all typed arrays off the heap), against
 * ~25 ns for a view of a shared buffer; on JSC (Bun) the view costs ~30–40 ns more than its own
 * buffer (measured, Deno 2.9.6, Node 24, Bun 1.4.5). So the engine of a runtime turns slabs on
 * ({@link useByteSlabs}) or leaves them off, the default.
 *
 * A slab is never written twice: each piece is a fresh region, and the slab is freed once no piece
 * of it is referenced. Pieces are for bytes nobody keeps long (a piece held keeps its whole slab,
 * {@link SLAB_SIZE}, alive): never for bytes handed to user code.
 */

/** Pieces up to this size are cut from a slab; larger ones get their own buffer. */
const PIECE_MAX = 1024;
const SLAB_SIZE = 16 * 1024;
let on = false;
let slab = new ArrayBuffer(0);
let used = 0;

/** Cuts {@link slabBytes} from shared slabs (`true`) or gives each its own buffer (`false`, the default). */
export function useByteSlabs(enabled: boolean): void {
  on = enabled;
}

/** `n` zeroed bytes for short-lived use: a piece of a slab when slabs are on and `n` is small. */
export function slabBytes(n: number): Uint8Array {
  if (!on || n > PIECE_MAX) return new Uint8Array(n);
  if (used + n > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_SIZE);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  used += (n + 7) & ~7;
  return out;
}

/** A copy of `bytes` for short-lived use (see {@link slabBytes}). */
export function slabCopy(bytes: Uint8Array): Uint8Array {
  if (!on || bytes.length > PIECE_MAX) return bytes.slice();
  const out = slabBytes(bytes.length);
  out.set(bytes);
  return out;
}
