// The pure HTTP/1.1 head rules (src/core/request-rules.ts), without sockets: Host syntax per
// RFC 3986, the forms of a request target, Transfer-Encoding. The wire suites in this folder
// show each rule on every runtime and path.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { absoluteAuthority, absoluteFormProblem, isChunkedOnly, isValidHost, originForm } from "../../src/core/request-rules.ts";

describe('isValidHost: uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3)', () => {
  const valid = [
    "",
    "a",
    "a.example",
    "A.Example:8080",
    "a.example.",
    "a:",
    "a:0",
    "a:99999",
    "192.0.2.1",
    "192.0.2.1:80",
    "1.2.3.999",
    "xn--bcher-kva.example",
    "a!$&'()*+,;=~-._b",
    "a%20b",
    "a%2Fb",
    "[::1]",
    "[::1]:80",
    "[::]",
    "[2001:db8::7]",
    "[2001:db8:0:0:0:0:0:7]",
    "[::ffff:192.0.2.1]",
    "[1:2:3:4:5:6:192.0.2.1]",
    "[v7.fe:80]",
    "[V1A.x]",
  ];
  for (const value of valid) test(`valid: ${JSON.stringify(value)}`, () => assert.equal(isValidHost(value), true));

  const invalid = [
    "a b",
    "a/b",
    "a?b",
    "a#b",
    "a@b",
    "a\\b",
    "a\tb",
    "a\x7fb",
    "b\u00fccher.example",
    "a:x",
    "a:80:80",
    ":80",
    "::1",
    "a%zz",
    "a%2",
    "a, b",
    "a.example, b.example",
    "[::1",
    "[::1]x",
    "[::1]:8x",
    "[1:2:3:4:5:6:7:8:9]",
    "[1:2:3:4:5:6:7]",
    "[1::2::3]",
    "[:1]",
    "[1:]",
    "[12345::]",
    "[::192.0.2.256]",
    "[::192.0.2.01]",
    "[1.2.3.4::]",
    "[fe80::1%25eth0]",
    "[v.x]",
    "[vz.x]",
    "[v1.]",
    "[v1.a/b]",
    "[]",
  ];
  for (const value of invalid) test(`invalid: ${JSON.stringify(value)}`, () => assert.equal(isValidHost(value), false));

  test("a value checked once stays valid, and an invalid one never becomes valid by repetition", () => {
    assert.equal(isValidHost("a.example"), true);
    assert.equal(isValidHost("a.example"), true);
    assert.equal(isValidHost("a b"), false);
    assert.equal(isValidHost("a b"), false);
    assert.equal(isValidHost("a.example"), true);
  });
});

describe("request-target forms", () => {
  const cases: [target: string, origin: string, authority: string | null][] = [
    ["/x?q=1", "/x?q=1", null],
    ["http://a.example/x?q=1", "/x?q=1", "a.example"],
    ["http://a.example:8080/x", "/x", "a.example:8080"],
    ["https://a.example", "/", "a.example"],
    ["http://a.example?q=1", "/?q=1", "a.example"],
    ["http://u@a.example/x", "/x", "u@a.example"],
    ["*", "*", null],
    ["a.example:443", "a.example:443", null],
  ];
  for (const [target, origin, authority] of cases) {
    test(`${target}: origin-form ${origin}, authority ${authority}`, () => {
      assert.equal(originForm(target), origin);
      assert.equal(absoluteAuthority(target), authority);
    });
  }

  test("absolute-form targets tako serves, and those it refuses", () => {
    assert.equal(absoluteFormProblem("http://a.example/x"), null);
    assert.equal(absoluteFormProblem("HTTPS://a.example:8443/x"), null);
    assert.equal(absoluteFormProblem("http://[::1]:80/"), null);
    assert.match(absoluteFormProblem("ftp://a.example/x") ?? "", /scheme/);
    assert.match(absoluteFormProblem("http://u:p@a.example/x") ?? "", /userinfo/);
    assert.match(absoluteFormProblem("http:///x") ?? "", /authority/);
    assert.match(absoluteFormProblem("http://a b/x") ?? "", /authority/);
    assert.match(absoluteFormProblem("http://a.example:8x/x") ?? "", /authority/);
  });
});

describe("Transfer-Encoding", () => {
  test("only chunked, in any case", () => {
    assert.equal(isChunkedOnly("chunked"), true);
    assert.equal(isChunkedOnly("Chunked"), true);
    assert.equal(isChunkedOnly("CHUNKED"), true);
    assert.equal(isChunkedOnly("identity, chunked"), false);
    assert.equal(isChunkedOnly("gzip, chunked"), false);
    assert.equal(isChunkedOnly("chunked, chunked"), false);
    assert.equal(isChunkedOnly("identity"), false);
    assert.equal(isChunkedOnly("chunke"), false);
  });
});
