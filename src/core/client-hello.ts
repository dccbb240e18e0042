/**
 * Reads the server name (SNI, RFC 6066 §3) from the first bytes of a TLS connection: the
 * ClientHello (RFC 8446 §4.1.2; TLS 1.2's is the same up to its extensions), possibly split over
 * several handshake records (RFC 8446 §5.1). Engines that must choose a certificate before they
 * start the handshake (a `CertResolver` without an immediate answer) read until this answers, ask the
 * resolver, and then start TLS with every byte read so far.
 *
 * Runtime-neutral and pure: bytes in, an answer out. Strict where it reads (every length is
 * checked against its container) and bounded ({@link CLIENT_HELLO_MAX}); it does not validate
 * what the TLS library checks anyway (versions, cipher suites, the other extensions): a hello
 * that passes here may still be refused by the handshake.
 * @module
 */

/** The largest ClientHello accepted, in handshake body bytes (16 KiB: one full record; post-quantum key shares make a hello about 2 KiB). */
export const CLIENT_HELLO_MAX = 16 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME = 0x0000;
const HOST_NAME = 0x00;
/** RFC 6066 §3: a host name is at most 255 bytes (as DNS). */
const HOST_NAME_MAX = 255;

/** What {@link readClientHello} makes of the bytes read so far. */
export type ClientHelloRead =
  /** The hello is not complete yet: read more (at most {@link CLIENT_HELLO_MAX} and the record headers in all). */
  | { readonly kind: "more" }
  /** A complete ClientHello: the host name the client asked for, or `null` without SNI. */
  | { readonly kind: "hello"; readonly serverName: string | null }
  /** Not a ClientHello a TLS server could accept: close the connection. */
  | { readonly kind: "bad"; readonly reason: string };

const MORE: ClientHelloRead = { kind: "more" };
const bad = (reason: string): ClientHelloRead => ({ kind: "bad", reason });

/**
 * The answer for `bytes`, the first bytes the client sent. Called again with more bytes while it
 * answers `"more"`; never throws.
 */
export function readClientHello(bytes: Uint8Array): ClientHelloRead {
  // The handshake message is the concatenation of the records' fragments; its first 4 bytes
  // (type, 24-bit length) say how long it is.
  let body: Uint8Array | null = null;
  let need = -1;
  let have = 0;
  let at = 0;
  const header = new Uint8Array(4);
  let headerHave = 0;
  while (need === -1 || have < need) {
    if (bytes.length - at < RECORD_HEADER) return at === 0 && bytes.length > 0 && bytes[0] !== HANDSHAKE ? bad("not a TLS handshake record") : MORE;
    if (bytes[at] !== HANDSHAKE) return bad(at === 0 ? "not a TLS handshake record" : "the ClientHello is interleaved with another record type");
    // Legacy record version: 0x0301 for the first ClientHello, 0x0300..0x0303 tolerated (RFC 8446 §5.1).
    if (bytes[at + 1] !== 0x03 || bytes[at + 2]! > 0x04) return bad("not a TLS record version");
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (length === 0) return bad("an empty handshake record");
    if (length > 16384) return bad("a record longer than 2^14 bytes");
    const start = at + RECORD_HEADER;
    const available = Math.min(length, bytes.length - start);
    let i = 0;
    for (; i < available && headerHave < 4; i++) header[headerHave++] = bytes[start + i]!;
    if (need === -1 && headerHave === 4) {
      if (header[0] !== CLIENT_HELLO) return bad("the first handshake message is not a ClientHello");
      need = (header[1]! << 16) | (header[2]! << 8) | header[3]!;
      if (need > CLIENT_HELLO_MAX) return bad(`a ClientHello longer than ${CLIENT_HELLO_MAX} bytes`);
      body = new Uint8Array(need);
    }
    if (body !== null) {
      const take = Math.min(available - i, need - have);
      body.set(bytes.subarray(start + i, start + i + take), have);
      have += take;
      if (have === need) {
        // Bytes of this record past the hello would be a second handshake message: not from a client's first flight.
        if (i + take < length) return bad("more handshake data after the ClientHello in its record");
        break;
      }
    }
    if (available < length) return MORE;
    at = start + length;
  }
  return serverNameOf(body!);
}

/** The SNI host name of a complete ClientHello body (after the 4-byte handshake header). */
function serverNameOf(b: Uint8Array): ClientHelloRead {
  const r = new Reader(b);
  r.skip(2 + 32); // legacy_version, random
  r.skip(r.u8()); // legacy_session_id
  const suites = r.u16();
  if (suites === 0 || suites % 2 !== 0) return bad("malformed cipher suites");
  r.skip(suites);
  const compression = r.u8();
  if (compression === 0) return bad("no compression methods");
  r.skip(compression);
  if (r.failed) return bad("truncated ClientHello");
  if (r.at === b.length) return { kind: "hello", serverName: null }; // no extensions (TLS 1.2 allows it)
  const end = r.u16() + r.at;
  if (r.failed || end !== b.length) return bad("the extensions do not fill the ClientHello");
  let serverName: string | null = null;
  let seen = false;
  while (r.at < end) {
    const type = r.u16();
    const length = r.u16();
    if (r.failed || r.at + length > end) return bad("truncated extension");
    if (type !== SERVER_NAME) {
      r.skip(length);
      continue;
    }
    if (seen) return bad("two server_name extensions");
    seen = true;
    const extEnd = r.at + length;
    const listEnd = r.u16() + r.at;
    if (r.failed || listEnd !== extEnd || listEnd === r.at) return bad("malformed server_name extension");
    while (r.at < listEnd) {
      const nameType = r.u8();
      const nameLength = r.u16();
      if (r.failed || r.at + nameLength > listEnd) return bad("malformed server_name extension");
      if (nameType === HOST_NAME) {
        if (serverName !== null) return bad("two host names in server_name");
        const name = hostName(b.subarray(r.at, r.at + nameLength));
        if (name === null) return bad("a server name that is not an ASCII host name");
        serverName = name;
      }
      r.skip(nameLength);
    }
  }
  return { kind: "hello", serverName };
}

/** An SNI host name (RFC 6066 §3: ASCII, no trailing dot, 1..255 bytes) as a string, or `null` when it is not one. */
function hostName(raw: Uint8Array): string | null {
  if (raw.length === 0 || raw.length > HOST_NAME_MAX || raw[raw.length - 1] === 0x2e) return null;
  let s = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    // Letters, digits, hyphen, dot and underscore (seen in the wild): nothing that could make a
    // path, a header or a log line out of a name.
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f;
    if (!ok) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Big-endian reads that set {@link failed} instead of throwing when they run past the end. */
class Reader {
  at = 0;
  failed = false;
  readonly #b: Uint8Array;

  constructor(b: Uint8Array) {
    this.#b = b;
  }

  u8(): number {
    if (this.at + 1 > this.#b.length) return this.#fail();
    return this.#b[this.at++]!;
  }

  u16(): number {
    if (this.at + 2 > this.#b.length) return this.#fail();
    const v = (this.#b[this.at]! << 8) | this.#b[this.at + 1]!;
    this.at += 2;
    return v;
  }

  skip(n: number): void {
    if (this.at + n > this.#b.length) this.#fail();
    else this.at += n;
  }

  #fail(): number {
    this.failed = true;
    this.at = this.#b.length;
    return 0;
  }
}
