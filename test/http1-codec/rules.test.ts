// Every rule of the HTTP/1.1 request parser (src/core/http1/parser.ts), one input per rule,
// each checked whole, cut at every byte boundary and fed one byte at a time: the outcome must
// not depend on where the bytes were cut. Refusals carry llhttp's code and tako's status.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Http1ParseError } from "../../src/core/http1/errors.ts";
import { HTTP1_METHODS, Http1Parser, type Http1ParserOptions } from "../../src/core/http1/parser.ts";
import { type Collected, collect, split } from "./_collect.ts";
import { LLHTTP_METHODS } from "./_llhttp.ts";

const summary = (c: Collected): string =>
  JSON.stringify([
    c.error?.code ?? null,
    c.error?.status ?? null,
    c.upgrade,
    c.error === null ? c.consumed : null,
    c.requests.map((r) => [r.head, r.body.toString("latin1"), r.trailers, r.complete]),
  ]);

/** Parses `input` whole, then at every cut and byte by byte; asserts all agree and returns the whole result. */
function parse(input: string, options?: Http1ParserOptions): Collected {
  const bytes = Buffer.from(input, "latin1");
  const whole = collect([bytes], options);
  const expected = summary(whole);
  for (let cut = 1; cut < bytes.length; cut++) assert.equal(summary(collect(split(bytes, [cut]), options)), expected, `cut at ${cut}`);
  assert.equal(
    summary(
      collect(
        Array.from(bytes, (b) => Uint8Array.of(b)),
        options,
      ),
    ),
    expected,
    "one byte at a time",
  );
  return whole;
}

function refused(input: string, code: string, status = 400, options?: Http1ParserOptions): void {
  const c = parse(input, options);
  assert.equal(c.error?.code, code, `expected ${code}, got ${c.error?.code ?? "no error"} (${c.error?.message ?? ""})`);
  assert.equal(c.error?.status, status);
  assert.equal(c.error?.headers?.connection, "close");
}

const H = "Host: a\r\n";
const get = (line: string, headers = H): string => `${line}\r\n${headers}\r\n`;
const post = (headers: string, body: string): string => `POST / HTTP/1.1\r\n${H}${headers}\r\n${body}`;
const chunked = (body: string): string => post("Transfer-Encoding: chunked\r\n", body);

describe("request line (RFC 9112 §3)", () => {
  test("method SP target SP HTTP/1.1, HTTP/1.0", () => {
    const c = parse(`${get("GET /a?b#c HTTP/1.1")}${get("HEAD / HTTP/1.0", "Connection: keep-alive\r\n")}`);
    assert.deepEqual(
      c.requests.map((r) => [r.head.method, r.head.target, r.head.versionMinor, r.head.keepAlive]),
      [
        ["GET", "/a?b#c", 1, true],
        ["HEAD", "/", 0, true],
      ],
    );
  });
  test("the methods are node:http's (llhttp's, less QUERY which Node 20 cannot name); case matters", () => {
    assert.deepEqual([...HTTP1_METHODS].sort(), LLHTTP_METHODS.filter((m) => m !== "QUERY").sort());
    for (const m of HTTP1_METHODS) assert.equal(collect([Buffer.from(get(`${m} ${m === "CONNECT" ? "a:1" : "/"} HTTP/1.1`))]).error, null, m);
    refused(get("get / HTTP/1.1"), "HPE_INVALID_METHOD");
    refused(get("FOO / HTTP/1.1"), "HPE_INVALID_METHOD");
    refused(get("QUERY / HTTP/1.1"), "HPE_INVALID_METHOD");
    refused(get("DESCRIBE / HTTP/1.1"), "HPE_INVALID_METHOD");
    refused(get("GET\t/ HTTP/1.1"), "HPE_INVALID_METHOD");
    refused(get(" GET / HTTP/1.1"), "HPE_INVALID_METHOD");
  });
  test("one SP each side of the target; no whitespace, CTL or non-ASCII in it", () => {
    refused(get("GET  / HTTP/1.1"), "HPE_INVALID_URL");
    refused(get("GET /a b HTTP/1.1"), "HPE_INVALID_VERSION");
    refused(get("GET /a\tb HTTP/1.1"), "HPE_INVALID_URL");
    refused(get("GET /a\x7fb HTTP/1.1"), "HPE_INVALID_URL");
    refused(get("GET /a\x80b HTTP/1.1"), "HPE_INVALID_URL");
    refused(get("GET /a\x00b HTTP/1.1"), "HPE_INVALID_URL");
    refused(get("GET / HTTP/1.1 "), "HPE_INVALID_VERSION");
  });
  test("target forms: origin, absolute (letters scheme, one @, non-empty authority), OPTIONS *, CONNECT authority", () => {
    for (const line of ["GET //x HTTP/1.1", "GET http://a.example:1/x?y HTTP/1.1", "GET HTTP://a?b HTTP/1.1", "OPTIONS * HTTP/1.1", "CONNECT a.example:443 HTTP/1.1"]) {
      assert.equal(collect([Buffer.from(get(line))]).requests.length, 1, line);
    }
    for (const line of [
      "GET foo HTTP/1.1",
      "GET ? HTTP/1.1",
      "GET h1tp://a HTTP/1.1",
      "GET http:/a HTTP/1.1",
      "GET http:// HTTP/1.1",
      "GET http://a#b HTTP/1.1",
      "GET http://a<b HTTP/1.1",
      "GET http://a@b@c/ HTTP/1.1",
      "GET * HTTP/1.1",
      "OPTIONS *x HTTP/1.1",
      "CONNECT /x HTTP/1.1",
      "CONNECT a/b HTTP/1.1",
    ]) {
      refused(get(line), "HPE_INVALID_URL");
    }
  });
  test("version: HTTP/1.0 or HTTP/1.1 exactly; other HTTP/d.d → 505; anything else → 400", () => {
    refused(get("GET / HTTP/2.0"), "HPE_INVALID_VERSION", 505);
    refused(get("GET / HTTP/0.9"), "HPE_INVALID_VERSION", 505);
    refused(get("GET / HTTP/1.2"), "HPE_INVALID_VERSION", 505);
    refused(get("GET / HTTP/1.10"), "HPE_INVALID_VERSION");
    refused(get("GET / http/1.1"), "HPE_INVALID_VERSION");
    refused(get("GET / RTSP/1.0"), "HPE_INVALID_VERSION");
    refused(get("GET /"), "HPE_INVALID_CONSTANT");
  });
  test("CRLF only: a bare LF or a bare CR is refused; empty lines before a request are skipped", () => {
    assert.equal(parse(`\r\n\r\n${get("GET / HTTP/1.1")}`).requests.length, 1);
    refused(`\n${get("GET / HTTP/1.1")}`, "HPE_CR_EXPECTED");
    refused("GET / HTTP/1.1\nHost: a\r\n\r\n", "HPE_CR_EXPECTED");
    refused("GET / HTTP/1.1\r\nHost: a\n\r\n", "HPE_CR_EXPECTED");
    refused("GET / HTTP/1.1\r\nHost: a\r\n\n", "HPE_CR_EXPECTED");
    refused("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "HPE_INVALID_HEADER_TOKEN");
    refused("GET / HTTP/1.1\r\r\n\r\n", "HPE_INVALID_VERSION");
  });
});

describe("header fields (RFC 9112 §5, RFC 9110 §5.5)", () => {
  test("raw names as sent; values without surrounding SP/HTAB; latin1 obs-text kept", () => {
    const c = parse(get("GET / HTTP/1.1", `${H}X-A:b\r\nx-b: \t c d \t\r\nX-Empty:\r\nX-Obs: caf\xe9\x80\r\n!#$%&'*+-.^_\`|~09aZ: v\r\n`));
    assert.deepEqual(c.requests[0]!.head.headers, ["Host", "a", "X-A", "b", "x-b", "c d", "X-Empty", "", "X-Obs", "caf\xe9\x80", "!#$%&'*+-.^_`|~09aZ", "v"]);
  });
  test("no whitespace before the colon, no obs-fold, a token name, a colon", () => {
    refused(get("GET / HTTP/1.1", "A : b\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", "A\t: b\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", `${H}A: b\r\n c\r\n`), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", `${H}A: b\r\n\tc\r\n`), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", " A: b\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", ": b\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", "A\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", "A{: b\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(get("GET / HTTP/1.1", "A\x80: b\r\n"), "HPE_INVALID_HEADER_TOKEN");
  });
  test("values: no NUL, no CTL other than HTAB, no DEL", () => {
    for (const c of [0, 1, 8, 0x0b, 0x0c, 0x0d, 0x1f, 0x7f]) refused(get("GET / HTTP/1.1", `X: a${String.fromCharCode(c)}b\r\n`), "HPE_INVALID_HEADER_TOKEN");
  });
  test("Connection options (any case, in a list) decide keep-alive; HTTP/1.0 closes unless keep-alive", () => {
    const ka = (version: string, conn: string): boolean => parse(get(`GET / HTTP/1.${version}`, `${H}${conn}`)).requests[0]!.head.keepAlive;
    assert.equal(ka("1", ""), true);
    assert.equal(ka("1", "Connection: foo, CLOSE\r\n"), false);
    assert.equal(ka("1", "Connection: closed\r\n"), true);
    assert.equal(ka("0", ""), false);
    assert.equal(ka("0", "Connection: Keep-Alive\r\n"), true);
    assert.equal(ka("0", "Connection: keep-alive, close\r\n"), false);
  });
  test("nothing may follow a request that closes the connection", () => {
    refused(`${get("GET / HTTP/1.1", `${H}Connection: close\r\n`)}GET / HTTP/1.1\r\n`, "HPE_CLOSED_CONNECTION");
    refused(`${get("GET / HTTP/1.0")}\r\n`, "HPE_CLOSED_CONNECTION");
  });
});

describe("body framing (RFC 9112 §6)", () => {
  test("Content-Length: the body, then the next pipelined request", () => {
    const c = parse(`${post("Content-Length: 005 \r\n", "hello")}${get("GET /n HTTP/1.1")}`);
    assert.deepEqual(
      c.requests.map((r) => [r.head.framing, r.head.contentLength, r.body.toString()]),
      [
        ["length", 5, "hello"],
        ["none", null, ""],
      ],
    );
  });
  test("Content-Length: digits only, one line, within 2^53", () => {
    for (const v of ["abc", "-1", "+1", "1 2", "1,1", "0x5", "", "5\t", "9007199254740992"]) refused(post(`Content-Length: ${v}\r\n`, ""), "HPE_INVALID_CONTENT_LENGTH");
    refused(post("Content-Length: 1\r\nContent-Length: 1\r\n", "ab"), "HPE_UNEXPECTED_CONTENT_LENGTH");
    refused(post("Content-Length: 2\r\nContent-Length: 3\r\n", "ab"), "HPE_UNEXPECTED_CONTENT_LENGTH");
  });
  test("Transfer-Encoding: chunked alone (any case), last, once, never with Content-Length, never in HTTP/1.0", () => {
    assert.equal(parse(post("Transfer-Encoding: CHUNKED \r\n", "0\r\n\r\n")).requests[0]!.head.framing, "chunked");
    for (const te of ["gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked\t", "xchunked", "chunked,"])
      refused(post(`Transfer-Encoding: ${te}\r\n`, "0\r\n\r\n"), "HPE_INVALID_TRANSFER_ENCODING");
    refused(post("Transfer-Encoding:\r\n", "0\r\n\r\n"), "HPE_INVALID_TRANSFER_ENCODING");
    refused(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), "HPE_INVALID_TRANSFER_ENCODING");
    refused(post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), "HPE_UNEXPECTED_CONTENT_LENGTH");
    refused(post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", "0\r\n\r\n"), "HPE_UNEXPECTED_CONTENT_LENGTH");
    refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HPE_INVALID_TRANSFER_ENCODING");
  });
  test("chunked: sizes in hex (leading zeros), extensions (token or quoted-string), trailers", () => {
    const c = parse(chunked('5;a=b;c="x \\" y"\r\nhello\r\nA;d\r\n0123456789\r\n000\r\nX-T: 1\r\nY: 2\r\n\r\n'));
    assert.equal(c.requests[0]!.body.toString(), "hello0123456789");
    assert.deepEqual(c.requests[0]!.trailers, ["X-T", "1", "Y", "2"]);
  });
  test("chunked: refused sizes, extensions, data ends and trailers", () => {
    for (const size of ["", "g", " 5", "5 ", "5\t", "0x5", "-1", "20000000000000"]) refused(chunked(`${size}\r\nhello\r\n0\r\n\r\n`), "HPE_INVALID_CHUNK_SIZE");
    for (const ext of [";", "; a", ";a =b", ";a=", ";a=b c", ';a="b', ';a="b"c', ';a="\\\x01"', ";a=b;", ";;a", ';a="\x01"'])
      refused(chunked(`5${ext}\r\nhello\r\n0\r\n\r\n`), "HPE_STRICT");
    refused(chunked("5\r\nhelloX\r\n0\r\n\r\n"), "HPE_STRICT");
    refused(chunked("5\r\nhello\n0\r\n\r\n"), "HPE_STRICT");
    refused(chunked("5\nhello\r\n0\r\n\r\n"), "HPE_CR_EXPECTED");
    refused(chunked("0\r\nA : b\r\n\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(chunked("0\r\nA: b\r\n c\r\n\r\n"), "HPE_INVALID_HEADER_TOKEN");
    refused(chunked("0\r\nContent-Length: 5\r\n\r\n"), "HPE_INVALID_CONTENT_LENGTH");
    refused(chunked("0\r\nTransfer-Encoding: chunked\r\n\r\n"), "HPE_INVALID_TRANSFER_ENCODING");
    refused(chunked("0\r\nConnection: close\r\n\r\n"), "HPE_INVALID_HEADER_TOKEN");
  });
  test("body bytes arrive as they come, never past the framing", () => {
    const got: string[] = [];
    const p = new Http1Parser({ onHead() {}, onBody: (b) => got.push(Buffer.from(b).toString()), onComplete: () => got.push("|") });
    p.execute(Buffer.from(post("Content-Length: 6\r\n", "ab")));
    p.execute(Buffer.from("cd"));
    p.execute(Buffer.from(`ef${get("GET / HTTP/1.1")}`));
    assert.deepEqual(got, ["ab", "cd", "ef", "|", "|"]);
  });
});

describe("upgrade and CONNECT: handed back with the bytes after them", () => {
  test("Upgrade + Connection: upgrade; the body first, then the rest is the caller's", () => {
    const c = parse(`${get("GET /ws HTTP/1.1", `${H}Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nContent-Length: 2\r\n`)}abNEW PROTOCOL`);
    assert.equal(c.upgrade, true);
    assert.equal(c.requests[0]!.body.toString(), "ab");
    assert.equal(c.consumed, Buffer.byteLength(get("GET /ws HTTP/1.1", `${H}Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nContent-Length: 2\r\n`)) + 2);
  });
  test("Upgrade needs the Connection option, and a value", () => {
    assert.equal(parse(get("GET / HTTP/1.1", `${H}Upgrade: x\r\n`)).upgrade, false);
    assert.equal(parse(get("GET / HTTP/1.1", `${H}Upgrade:\r\nConnection: upgrade\r\n`)).upgrade, false);
    assert.equal(parse(get("GET / HTTP/1.1", `${H}Upgrade: x\r\nConnection: upgrade\t\r\n`)).upgrade, false);
  });
  test("CONNECT: upgraded after the head; content refused", () => {
    const c = parse(`${get("CONNECT a.example:443 HTTP/1.1")}\x16\x03`);
    assert.equal(c.upgrade, true);
    assert.equal(c.consumed, Buffer.byteLength(get("CONNECT a.example:443 HTTP/1.1")));
    refused(get("CONNECT a:1 HTTP/1.1", `${H}Content-Length: 3\r\n`), "HPE_UNEXPECTED_CONTENT_LENGTH");
  });
});

describe("limits", () => {
  test("head bytes: 431 past maxHeadBytes (default 16 KiB), request line to the empty line", () => {
    const head = (n: number): string => get("GET / HTTP/1.1", `X: ${"a".repeat(n)}\r\n`);
    const fits = 16 * 1024 - Buffer.byteLength(head(0));
    assert.equal(collect([Buffer.from(head(fits))]).error, null);
    assert.equal(collect([Buffer.from(head(fits + 1))]).error?.status, 431);
    refused(head(40), "HPE_HEADER_OVERFLOW", 431, { maxHeadBytes: 50 });
    refused(`${"\r\n".repeat(30)}GET / HTTP/1.1\r\n\r\n`, "HPE_HEADER_OVERFLOW", 431, { maxHeadBytes: 50 });
  });
  test("a request line whose method cannot be one is refused before its LF (another protocol's bytes)", () => {
    for (const start of ["\x16\x03\x01\x02\x00", "GARBAGE ", "FOO /", "get /"]) {
      const p = new Http1Parser({ onHead() {}, onBody() {}, onComplete() {} });
      assert.throws(
        () => p.execute(Buffer.from(start, "latin1")),
        (e) => e instanceof Http1ParseError && e.code === "HPE_INVALID_METHOD",
        JSON.stringify(start),
      );
    }
    const long = new Http1Parser({ onHead() {}, onBody() {}, onComplete() {} });
    assert.throws(
      () => long.execute(Buffer.from("A".repeat(12))),
      (e) => e instanceof Http1ParseError && e.code === "HPE_INVALID_METHOD",
      "longer than any method",
    );
    const p = new Http1Parser({ onHead() {}, onBody() {}, onComplete() {} });
    assert.equal(p.execute(Buffer.from("UNSUBSCRIBE")), 11);
    assert.equal(p.execute(Buffer.from(" / HTTP/1.1\r\nHost: a\r\n\r\n")), 24);
    assert.equal(p.execute(Buffer.from("\r")), 1);
    assert.equal(p.execute(Buffer.from("\nM-SEARC")), 8);
  });
  test("a stalled line is refused once it passes the limit, before its LF", () => {
    const p = new Http1Parser({ onHead() {}, onBody() {}, onComplete() {} }, { maxHeadBytes: 100 });
    p.execute(Buffer.from(`GET /${"a".repeat(90)}`));
    assert.throws(
      () => p.execute(Buffer.from("a".repeat(20))),
      (e) => e instanceof Http1ParseError && e.status === 431,
    );
  });
  test("header count: 431 past maxHeaders (default 200); trailers too", () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join("");
    assert.equal(collect([Buffer.from(get("GET / HTTP/1.1", fields(200)))]).error, null);
    assert.equal(collect([Buffer.from(get("GET / HTTP/1.1", fields(201)))]).error?.code, "HPE_HEADER_OVERFLOW");
    refused(get("GET / HTTP/1.1", fields(4)), "HPE_HEADER_OVERFLOW", 431, { maxHeaders: 3 });
    refused(chunked(`0\r\n${fields(4)}\r\n`), "HPE_HEADER_OVERFLOW", 431, { maxHeaders: 3 });
  });
  test("trailer section bytes: 431 past maxHeadBytes", () => {
    refused(chunked(`0\r\nX: ${"a".repeat(60)}\r\n\r\n`), "HPE_HEADER_OVERFLOW", 431, { maxHeadBytes: 60 });
  });
  test("chunk extensions: 413 past maxChunkExtensionBytes (default 16 KiB), per chunk", () => {
    refused(chunked(`5;a=${"b".repeat(20)}\r\nhello\r\n0\r\n\r\n`), "HPE_CHUNK_EXTENSIONS_OVERFLOW", 413, { maxChunkExtensionBytes: 16 });
    const long = `;a=${"b".repeat(16 * 1024 - 3)}`;
    assert.equal(collect([Buffer.from(chunked(`1${long}\r\nx\r\n1${long}\r\ny\r\n0\r\n\r\n`))]).error, null);
    assert.equal(collect([Buffer.from(chunked(`1${long}b\r\nx\r\n0\r\n\r\n`))]).error?.status, 413);
  });
});

describe("the parser's life", () => {
  test("pause() stops execute after the callback; the caller feeds the rest again", () => {
    const seen: string[] = [];
    const p: Http1Parser = new Http1Parser({
      onHead: (h) => seen.push(h.target),
      onBody() {},
      onComplete: () => p.pause(),
    });
    const bytes = Buffer.from(get("GET /1 HTTP/1.1") + get("GET /2 HTTP/1.1"));
    const n = p.execute(bytes);
    assert.deepEqual(seen, ["/1"]);
    assert.equal(p.execute(bytes.subarray(n)), bytes.length - n);
    assert.deepEqual(seen, ["/1", "/2"]);
  });
  test("idle between requests; finish() refuses a request cut short; an error sticks", () => {
    const p = new Http1Parser({ onHead() {}, onBody() {}, onComplete() {} });
    assert.equal(p.idle, true);
    p.execute(Buffer.from(get("GET / HTTP/1.1")));
    assert.equal(p.idle, true);
    p.finish();
    p.execute(Buffer.from("GET / HT"));
    assert.equal(p.idle, false);
    assert.throws(
      () => p.finish(),
      (e) => e instanceof Http1ParseError && e.code === "HPE_INVALID_EOF_STATE",
    );
    assert.throws(
      () => p.execute(Buffer.from("TP/1.1\r\n\r\n")),
      (e) => e instanceof Http1ParseError && e.code === "HPE_INVALID_EOF_STATE",
    );
  });
});
