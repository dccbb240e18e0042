// Byte helpers shared by the encoders and the connection.

export const EMPTY = Buffer.alloc(0);

/** Turns a string (latin1, one char per octet) or bytes into a Buffer without copying bytes. */
export function bytes(data: Buffer | Uint8Array | string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "latin1");
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
