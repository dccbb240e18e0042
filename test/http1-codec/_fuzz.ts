// Seeded inputs for the differential test: valid requests of every shape the codec frames,
// mutated at the places where parsers disagree (line ends, whitespace, control bytes,
// framing headers, chunk sizes and extensions), and cut into chunks at random offsets.

/** A small seeded PRNG (mulberry32): the same seed gives the same cases on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const H = "Host: example.com\r\n";
/** Valid requests, one per framing and form; the mutations start from these. */
export const SEEDS: readonly string[] = [
  `GET / HTTP/1.1\r\n${H}\r\n`,
  `GET /a/b?c=d&e=%20f HTTP/1.1\r\n${H}User-Agent: fuzz/1.0\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\nCookie: a=b; c=d\r\n\r\n`,
  `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`,
  `GET http://example.com:8080/x HTTP/1.1\r\n${H}\r\n`,
  `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
  `POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello`,
  `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1;q="a b"\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n`,
  `PUT /u HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\nGET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
  `POST /a HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n`,
  `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x00`,
  `CONNECT example.com:443 HTTP/1.1\r\n${H}\r\n\x16\x03\x01`,
  `DELETE /x HTTP/1.1\r\n${H}X-Empty:\r\nX-Tab:\tv\t\r\nX-Obs: caf\xe9\r\n\r\n`,
];

/** Bytes that parsers treat differently. */
const SPECIAL = [0x0d, 0x0a, 0x20, 0x09, 0x00, 0x7f, 0x80, 0xff, 0x3a, 0x3b, 0x3d, 0x22, 0x5c, 0x2c, 0x30, 0x31, 0x66, 0x0b, 0x0c, 0x2f, 0x3f, 0x23, 0x40, 0x2a];

/** Header lines that make framing ambiguous when added to a request. */
const FRAMING_LINES = [
  "Content-Length: 5\r\n",
  "Content-Length: 0\r\n",
  "Content-Length: 05\r\n",
  "Content-Length: 5 \r\n",
  "Content-Length: 5, 5\r\n",
  "Content-Length: -1\r\n",
  "Content-Length: 99999999999999999999\r\n",
  "Content-Length:\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Transfer-Encoding: CHUNKED\r\n",
  "Transfer-Encoding: gzip, chunked\r\n",
  "Transfer-Encoding: chunked, gzip\r\n",
  "Transfer-Encoding: identity\r\n",
  "Transfer-Encoding: chunked \r\n",
  "Transfer-Encoding:  chunked\r\n",
  "Transfer-Encoding:\r\n",
  "Connection: close\r\n",
  "Connection: keep-alive\r\n",
  "Connection: upgrade\r\n",
  "Connection: close, upgrade\r\n",
  "Upgrade: h2c\r\n",
  "content-LENGTH: 5\r\n",
  "TRANSFER-ENCODING: chunked\r\n",
  "Transfer-Encoding : chunked\r\n",
  "Content-Length\t: 5\r\n",
  "Content-Length: \t5 \r\n",
  "Transfer-Encoding: chunked\t\r\n",
  "Transfer-Encoding: \tchunked\r\n",
  "Upgrade: websocket\r\nConnection: Upgrade\r\n",
  "Connection: Upgrade\t\r\n",
  "Connection: keep-alive\t, close \r\n",
  "Upgrade:\r\n",
  "Expect: 100-continue\r\n",
  " folded\r\n",
  "\tfolded\r\n",
  "Bad Name: x\r\n",
  "X : y\r\n",
  `X-Long: ${"v".repeat(300)}\r\n`,
];

const METHODS = ["GET", "POST", "PUT", "CONNECT", "OPTIONS", "M-SEARCH", "QUERY", "PRI", "get", "GETX", "GE", "DESCRIBE", "SETUP", "PROPFIND", "SOURCE", "HEAD"];

const CHUNK_SIZES = [
  "0",
  "00",
  "1",
  "5",
  "fffffffffffffff",
  "ffffffffffffffff",
  "10000000000000000",
  "5 ",
  " 5",
  "5;",
  "5;a",
  "5;a=",
  "5;a=b",
  '5;a="x',
  '5;a="\\\x01"',
  "5; a",
  "-1",
  "0x5",
  "g",
  "",
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

/** One mutation of `s` (latin1). */
function mutate(rand: () => number, s: string): string {
  const at = Math.floor(rand() * (s.length + 1));
  const r = rand();
  if (r < 0.25) return s.slice(0, at) + String.fromCharCode(pick(rand, SPECIAL)) + s.slice(at + 1);
  if (r < 0.45) return s.slice(0, at) + String.fromCharCode(pick(rand, SPECIAL)) + s.slice(at);
  if (r < 0.55) return s.slice(0, at) + s.slice(at + 1);
  if (r < 0.6) return s.slice(0, at) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(at + 1);
  if (r < 0.65) {
    // Another method on some request line.
    const lines = [...s.matchAll(/(?:^|\n)([A-Z-]+) /g)];
    if (lines.length === 0) return s;
    const m = pick(rand, lines);
    const start = m.index! + m[0].length - m[1]!.length - 1;
    return s.slice(0, start) + pick(rand, METHODS) + s.slice(start + m[1]!.length);
  }
  if (r < 0.85) {
    // A framing line after some line end of the head.
    const heads: number[] = [];
    for (let i = s.indexOf("\r\n"); i !== -1; i = s.indexOf("\r\n", i + 2)) heads.push(i + 2);
    const where = heads.length > 0 ? pick(rand, heads) : 0;
    return s.slice(0, where) + pick(rand, FRAMING_LINES) + s.slice(where);
  }
  // A chunk size replaced (or a line end duplicated / cut, when there is no chunk).
  const sizes = [...s.matchAll(/\r\n([0-9a-f]+(?:;[^\r]*)?)\r\n/g)];
  if (sizes.length > 0) {
    const m = pick(rand, sizes);
    const start = m.index! + 2;
    return s.slice(0, start) + pick(rand, CHUNK_SIZES) + s.slice(start + m[1]!.length);
  }
  const crlf = s.indexOf("\r\n", at);
  return crlf === -1 ? s : rand() < 0.5 ? `${s.slice(0, crlf)}\n${s.slice(crlf + 2)}` : `${s.slice(0, crlf)}\r${s.slice(crlf + 2)}`;
}

/** Case `i` of the run seeded with `seed`: the bytes and where they are cut. */
export function fuzzCase(rand: () => number): { bytes: Uint8Array; cuts: number[] } {
  let s = pick(rand, SEEDS);
  if (rand() < 0.2) s += pick(rand, SEEDS);
  const n = rand() < 0.25 ? 0 : 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) s = mutate(rand, s);
  const bytes = Buffer.from(s, "latin1");
  const cuts: number[] = [];
  const parts = Math.floor(rand() * 4);
  for (let k = 0; k < parts; k++) cuts.push(Math.floor(rand() * (bytes.length + 1)));
  return { bytes, cuts };
}
