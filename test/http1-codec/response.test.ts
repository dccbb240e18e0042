// Response framing (src/core/http1/response.ts): the exact bytes of a head, the refusals that
// keep an injected line off the wire, and chunked bodies that the parser reads back.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeChunk, Http1ResponseError, LAST_CHUNK, serializeResponse, serializeResponseHead, serializeTextResponse } from "../../src/core/http1/response.ts";
import { useByteSlabs } from "../../src/core/bytes.ts";
import { collect } from "./_collect.ts";

const text = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

describe("response head", () => {
  test("status line, headers as given, framing, connection: close", () => {
    assert.equal(text(serializeResponseHead(200, ["content-type", "text/plain"], { length: 13 })), "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\n");
    assert.equal(text(serializeResponseHead(404, [], "chunked", true)), "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    assert.equal(text(serializeResponseHead(204, ["X-A", "caf\xe9\tb"], "none", false, "Nothing")), "HTTP/1.1 204 Nothing\r\nX-A: caf\xe9\tb\r\n\r\n");
  });
  test("CR, LF, NUL, other CTLs, DEL and chars above U+00FF in a value are refused (the caller answers 500)", () => {
    for (const bad of ["a\r\nInjected: 1", "a\nb", "a\rb", "a\0b", "a\x01b", "a\x7fb", "a\u0100b", "\u2028"]) {
      assert.throws(() => serializeResponseHead(200, ["x-a", bad], "none"), Http1ResponseError, JSON.stringify(bad));
    }
  });
  test("names must be tokens; framing fields belong to the framing argument; status and reason are checked", () => {
    for (const bad of ["", "a b", "a:b", "a\r\nb", "é"]) assert.throws(() => serializeResponseHead(200, [bad, "v"], "none"), Http1ResponseError, JSON.stringify(bad));
    assert.throws(() => serializeResponseHead(200, ["Content-Length", "1"], "none"), Http1ResponseError);
    assert.throws(() => serializeResponseHead(200, ["transfer-encoding", "chunked"], "none"), Http1ResponseError);
    assert.throws(() => serializeResponseHead(200, [], { length: -1 }), Http1ResponseError);
    assert.throws(() => serializeResponseHead(99, [], "none"), Http1ResponseError);
    assert.throws(() => serializeResponseHead(200, [], "none", false, "OK\r\nX: y"), Http1ResponseError);
  });
});

describe("chunked body", () => {
  test("chunks and the last chunk read back through the parser", () => {
    const body = Buffer.concat([encodeChunk(Buffer.from("hello")), encodeChunk(new Uint8Array(300).fill(0x61)), LAST_CHUNK]);
    assert.equal(text(encodeChunk(Buffer.from("hello"))), "5\r\nhello\r\n");
    const c = collect([Buffer.from("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), body]);
    assert.equal(c.error, null);
    assert.equal(c.requests[0]!.body.toString(), `hello${"a".repeat(300)}`);
    assert.equal(c.requests[0]!.complete, true);
  });
  test("an empty chunk is refused: it would end the body", () => {
    assert.throws(() => encodeChunk(new Uint8Array(0)), Http1ResponseError);
  });
});

describe("whole response", () => {
  test("head and body in one array; HEAD gets the head with the body's length", () => {
    const body = Buffer.from("Hello, World!");
    assert.equal(text(serializeResponse(200, ["content-type", "text/plain"], body)), "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, World!");
    assert.equal(text(serializeResponse(200, [], body, true, true)), "HTTP/1.1 200 OK\r\ncontent-length: 13\r\nconnection: close\r\n\r\n");
    assert.equal(text(serializeResponse(200, ["x", "\xe9"], body)), "HTTP/1.1 200 OK\r\nx: \xe9\r\ncontent-length: 13\r\n\r\nHello, World!");
    assert.equal(text(serializeResponseHead(299, [], "none", false, "\xe9t\xe9")), "HTTP/1.1 299 \xe9t\xe9\r\n\r\n");
    assert.equal(text(serializeResponseHead(299, [], "none")), "HTTP/1.1 299 \r\n\r\n");
  });

  test("a text body is the same bytes as its UTF-8 encoding: short ASCII copied, non-ASCII and long text encoded; HEAD keeps the byte length", () => {
    const long = "x".repeat(5000);
    for (const body of ["", "Hello, World!", '{"id":"42"}', "caf\u00e9 \u{1f600}", "\u00ff", long, `${long}\u00e9`]) {
      const bytes = Buffer.from(body, "utf8");
      for (const [close, omit] of [
        [false, false],
        [true, false],
        [false, true],
      ] as const) {
        const got = serializeTextResponse(200, ["content-type", "text/plain; charset=utf-8", "x", "\xe9"], body, close, omit);
        const want = serializeResponse(200, ["content-type", "text/plain; charset=utf-8", "x", "\xe9"], bytes, close, omit);
        assert.deepEqual(Buffer.from(got), Buffer.from(want), `${JSON.stringify(body.slice(0, 20))} close=${close} omit=${omit}`);
      }
    }
  });

  test("a frozen field list's bytes are kept by identity: every status, length and close gets the same bytes as an unfrozen copy", () => {
    const lists = [
      Object.freeze(["content-type", "text/plain", "date", "Mon, 30 Nov 2026 15:00:00 GMT"]),
      Object.freeze(["content-type", "application/json", "date", "Mon, 30 Nov 2026 15:00:01 GMT"]),
      Object.freeze([] as string[]),
    ];
    // More lists and statuses than the cache holds, in turns, so entries are replaced and found again.
    for (let round = 0; round < 3; round++) {
      for (const list of lists) {
        for (const status of [200, 201, 404, 500]) {
          for (const length of [0, 1, 9, 10, 99, 100, 12345, 9007199254740991]) {
            for (const close of [false, true]) {
              const want = text(serializeResponseHead(status, [...list], { length }, close));
              assert.equal(text(serializeResponseHead(status, list, { length }, close)), want);
              assert.ok(want.includes(`\r\ncontent-length: ${length}\r\n`), want);
            }
          }
          assert.equal(text(serializeResponseHead(status, list, "chunked")), text(serializeResponseHead(status, [...list], "chunked")));
          assert.equal(text(serializeTextResponse(status, list, "hi")), text(serializeTextResponse(status, [...list], "hi")));
        }
      }
    }
    // A frozen list with a bad field is refused every time, not only the first.
    const bad = Object.freeze(["x-a", "a\r\nb"]);
    for (let i = 0; i < 3; i++) assert.throws(() => serializeResponseHead(200, bad, "none"), Http1ResponseError);
  });

  test("with slabs on, responses are cut from shared buffers: every one kept still holds its own bytes", () => {
    useByteSlabs(true);
    try {
      const kept: [Uint8Array, string][] = [];
      // Enough to fill several slabs, with sizes around the largest piece cut from one.
      for (let i = 0; i < 3000; i++) {
        const body = "x".repeat(i % 1200);
        const want = `HTTP/1.1 200 OK\r\nx-n: ${i}\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
        const got = i % 2 === 0 ? serializeTextResponse(200, ["x-n", String(i)], body) : serializeResponse(200, ["x-n", String(i)], Buffer.from(body));
        kept.push([got, want]);
      }
      for (const [got, want] of kept) assert.equal(text(got), want);
      assert.ok(
        kept.some(([got]) => got.buffer.byteLength > got.length),
        "some responses are views of a larger buffer",
      );
    } finally {
      useByteSlabs(false);
    }
  });
});
