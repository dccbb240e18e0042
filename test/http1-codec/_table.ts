// The project's malformed-input and smuggling table, lifted from the wire suites
// (test/h1/_suite.ts, test/semantics/_suite.ts), with what tako on Node answers to each: 0 for
// "served". Routing and body-limit answers (404, 413 for a declared length, 501 for PROPFIND)
// are not the codec's, so those cases are listed with the status the parse itself gives (0).
const host = "Host: t\r\n";

export interface TableCase {
  name: string;
  bytes: string;
  /** tako on Node: the status of the refusal, or 0 when the request is read (and routed). */
  node: number;
  /** Requests read before the refusal or the end (pipelining). */
  requests?: number;
}

export const TABLE: readonly TableCase[] = [
  { name: "malformed request line", bytes: "GARBAGE\r\n\r\n", node: 400 },
  { name: "request target with a space", bytes: `GET /a b HTTP/1.1\r\n${host}\r\n`, node: 400 },
  { name: "obs-fold header", bytes: `GET / HTTP/1.1\r\n${host}X-A: a\r\n b\r\n\r\n`, node: 400 },
  { name: "oversized header (70 KB)", bytes: `GET / HTTP/1.1\r\n${host}X-Big: ${"a".repeat(70_000)}\r\n\r\n`, node: 431 },
  { name: "3000 headers", bytes: `GET / HTTP/1.1\r\n${host}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`, node: 431 },
  { name: "invalid Content-Length", bytes: `POST /echo HTTP/1.1\r\n${host}Content-Length: abc\r\n\r\n`, node: 400 },
  { name: "negative Content-Length", bytes: `POST /echo HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`, node: 400 },
  { name: "two different Content-Lengths", bytes: `POST /echo HTTP/1.1\r\n${host}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, node: 400 },
  { name: "unknown Transfer-Encoding", bytes: `POST /echo HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\n\r\n`, node: 400 },
  { name: "declared body over the limit (the engine's 413, not the parser's)", bytes: `POST /echo-bytes HTTP/1.1\r\n${host}Content-Length: 2000000\r\n\r\n{`, node: 0 },
  { name: "method the router does not implement (the router's 501)", bytes: `PROPFIND / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`, node: 0 },
  {
    name: "Content-Length with Transfer-Encoding, a smuggled request behind",
    bytes: `POST /echo HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /boom HTTP/1.1\r\n${host}\r\n`,
    node: 400,
  },
  { name: "unknown method token", bytes: `FOOBAR / HTTP/1.1\r\n${host}\r\n`, node: 400 },
  { name: "pipelined requests", bytes: `GET /users/1 HTTP/1.1\r\n${host}\r\nGET /users/2 HTTP/1.1\r\n${host}\r\n`, node: 0, requests: 2 },
  { name: "HTTP/1.0 without Host", bytes: "GET / HTTP/1.0\r\n\r\n", node: 0 },
  { name: "absolute-form target", bytes: "GET http://evil.example:8080/authority?q=1 HTTP/1.1\r\nHost: good.example\r\n\r\n", node: 0 },
  { name: "absolute-form target with userinfo", bytes: "GET http://user@evil.example/authority HTTP/1.1\r\nHost: good.example\r\n\r\n", node: 400 },
  { name: "absolute-form target with scheme ftp", bytes: "GET ftp://evil.example/authority HTTP/1.1\r\nHost: good.example\r\n\r\n", node: 400 },
  { name: "absolute-form target with an invalid port", bytes: "GET http://evil.example:8x/authority HTTP/1.1\r\nHost: good.example\r\n\r\n", node: 400 },
  { name: "two Host lines", bytes: "GET /authority HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", node: 400 },
  ...["a b", "a/admin", "a@b", "a:x", "a:80:80", "[::1", "::1", ":80", "a%zz", "[fe80::1%25eth0]", "b\u00fccher.example"].map((v) => ({
    name: `Host ${JSON.stringify(v)}`,
    bytes: `GET /authority HTTP/1.1\r\nHost: ${v}\r\n\r\n`,
    node: 400,
  })),
  ...["", "A.Example:8080", "a.example.", "[::1]:80", "[2001:db8::7]", "[v7.fe:80]", "192.0.2.1:8", "a!$&'()*+,;=~-._b", "xn--bcher-kva.example", "a:"].map((v) => ({
    name: `Host ${JSON.stringify(v)} (valid)`,
    bytes: `GET /authority HTTP/1.1\r\nHost: ${v}\r\n\r\n`,
    node: 0,
  })),
  { name: "HTTP/1.1 without Host", bytes: "GET /authority HTTP/1.1\r\n\r\n", node: 400 },
  ...[
    ["Transfer-Encoding: identity, chunked", "Transfer-Encoding: identity, chunked\r\n"],
    ["Transfer-Encoding: identity and chunked on two lines", "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"],
    ["Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n"],
  ].map(([name, head]) => ({
    name: name!,
    bytes: `POST /upload?id=te HTTP/1.1\r\nHost: t\r\n${head}\r\n3\r\nabc\r\n0\r\n\r\nGET /mark/smuggled HTTP/1.1\r\nHost: t\r\n\r\n`,
    node: 400,
  })),
  { name: "Transfer-Encoding: Chunked (any case)", bytes: "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", node: 0 },
  { name: "DEL in a header value", bytes: "GET /authority HTTP/1.1\r\nHost: t\r\nX-A: a\x7fb\r\n\r\n", node: 400 },
  { name: "HTTP/2.0 in the request line", bytes: "GET /authority HTTP/2.0\r\nHost: t\r\n\r\n", node: 505 },
];
