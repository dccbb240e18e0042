// Byte-level readers shared by the v2 header and its TLVs.

export const UTF8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
