// Responders and request bodies, in process through router.fetch: no sockets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { html, HttpError, json, redirect, Reply, Router, text, type Responder } from "../../src/index.ts";

async function call(handler: () => unknown, init?: RequestInit): Promise<Response> {
  const r = new Router();
  r.onError(() => {});
  r.any("/", handler as never);
  return r.fetch(new Request("http://test/", init));
}

describe("responders", () => {
  const cases: [name: string, value: () => unknown, status: number, type: string | null, body: string][] = [
    ["string", () => "hi", 200, "text/plain; charset=utf-8", "hi"],
    ["async string", async () => "later", 200, "text/plain; charset=utf-8", "later"],
    ["bytes", () => new Uint8Array([104, 105]), 200, "application/octet-stream", "hi"],
    ["ArrayBuffer", () => new Uint8Array([111, 107]).buffer, 200, "application/octet-stream", "ok"],
    ["object as JSON", () => ({ a: [1, 2] }), 200, "application/json", '{"a":[1,2]}'],
    ["array as JSON", () => [1, "x"], 200, "application/json", '[1,"x"]'],
    ["number as JSON", () => 42, 200, "application/json", "42"],
    ["boolean as JSON", () => false, 200, "application/json", "false"],
    ["null", () => null, 200, null, ""],
    ["undefined", () => undefined, 200, null, ""],
    ["Fetch Response", () => new Response("raw", { status: 201, headers: { "x-a": "b" } }), 201, "text/plain;charset=UTF-8", "raw"],
    [
      "ReadableStream",
      () =>
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode("st"));
            c.enqueue(new TextEncoder().encode("ream"));
            c.close();
          },
        }),
      200,
      "application/octet-stream",
      "stream",
    ],
    [
      "async iterable",
      () =>
        (async function* () {
          yield "a";
          yield new TextEncoder().encode("b");
          yield "c";
        })(),
      200,
      "application/octet-stream",
      "abc",
    ],
    [
      "object literal with [Symbol.asyncIterator] (streamed, not JSON)",
      () => ({
        async *[Symbol.asyncIterator]() {
          yield "x";
          yield "y";
        },
      }),
      200,
      "application/octet-stream",
      "xy",
    ],
    ["intoResponse", () => ({ intoResponse: () => json({ via: "responder" }, { status: 202 }) }) satisfies Responder, 202, "application/json", '{"via":"responder"}'],
    ["json helper", () => json({ ok: true }, { status: 201, headers: { "x-y": "z" } }), 201, "application/json", '{"ok":true}'],
    ["text helper", () => text("t", { status: 203 }), 203, "text/plain; charset=utf-8", "t"],
    ["html helper", () => html("<p>x</p>"), 200, "text/html; charset=utf-8", "<p>x</p>"],
    ["Reply", () => new Reply("r", 206, { "content-type": "x/y" }), 206, "x/y", "r"],
    ["not serialisable → 500", () => ({ big: 1n }), 500, "text/plain; charset=utf-8", "Internal Server Error"],
    ["function → 500", () => () => 1, 500, "text/plain; charset=utf-8", "Internal Server Error"],
    [
      "HttpError",
      () => {
        throw new HttpError(409, "taken");
      },
      409,
      "text/plain; charset=utf-8",
      "taken",
    ],
  ];
  for (const [name, value, status, type, body] of cases) {
    test(name, async () => {
      const res = await call(value);
      assert.equal(res.status, status);
      assert.equal(res.headers.get("content-type"), type);
      assert.equal(await res.text(), body);
    });
  }

  test("redirect sets Location", async () => {
    const res = await call(() => redirect("/elsewhere", 301));
    assert.equal(res.status, 301);
    assert.equal(res.headers.get("location"), "/elsewhere");
  });

  test("multi-value headers repeat (Set-Cookie)", async () => {
    const res = await call(() => new Reply("c", 200, { "set-cookie": ["a=1", "b=2"] }));
    assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
  });

  test("helpers reject invalid statuses", () => {
    assert.throws(() => new Reply(null, 99), RangeError);
    assert.throws(() => new HttpError(200), RangeError);
  });
});

describe("request bodies", () => {
  function echo(limit?: number): Router {
    const r = new Router(limit === undefined ? {} : { bodyLimit: limit });
    r.post("/text", (req) => req.text());
    r.post("/json", async (req) => ({ got: await req.json() }));
    r.post("/bytes", async (req) => (await req.bytes()).byteLength);
    r.post("/twice", async (req) => `${await req.text()}|${await req.text()}`);
    r.post("/stream", async (req) => {
      let n = 0;
      for await (const chunk of req.body ?? []) n += (chunk as Uint8Array).byteLength;
      return n;
    });
    return r;
  }
  const post = (r: Router, path: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> =>
    r.fetch(new Request(`http://test${path}`, { method: "POST", body, headers, duplex: "half" } as RequestInit));

  test("text, json, bytes", async () => {
    const r = echo();
    assert.equal(await (await post(r, "/text", "héllo")).text(), "héllo");
    assert.deepEqual(await (await post(r, "/json", '{"a":1}')).json(), { got: { a: 1 } });
    assert.equal(await (await post(r, "/bytes", new Uint8Array(1000))).text(), "1000");
  });

  test("reading twice gives the same body", async () => {
    assert.equal(await (await post(echo(), "/twice", "x")).text(), "x|x");
  });

  test("json() twice gives the same value; text() after json() rejects (the text was not kept)", async () => {
    const r = new Router();
    r.post("/j", async (req) => {
      const a = await req.json();
      const b = await req.json();
      const late = await req.text().then(
        () => "read",
        (e: Error) => e.message,
      );
      return { same: a === b, late };
    });
    const res = await post(r, "/j", '{"x":1}', { "content-length": "7" });
    assert.deepEqual(await res.json(), { same: true, late: "request body already consumed" });
  });

  test("text() then json() parses the same text", async () => {
    const r = new Router();
    r.post("/t", async (req) => ({ text: await req.text(), json: await req.json() }));
    assert.deepEqual(await (await post(r, "/t", '{"y":2}')).json(), { text: '{"y":2}', json: { y: 2 } });
  });

  test("invalid JSON is 400 with a clear message", async () => {
    const res = await post(echo(), "/json", "{nope");
    assert.equal(res.status, 400);
    assert.match(await res.text(), /^invalid JSON in request body: /);
  });

  test("empty body to json() is 400", async () => {
    assert.equal((await post(echo(), "/json", "")).status, 400);
  });

  test("default limit is 1 MiB: a declared larger body is 413", async () => {
    const big = new Uint8Array(1024 * 1024 + 1);
    const res = await post(echo(), "/bytes", big);
    assert.equal(res.status, 413);
    assert.match(await res.text(), /exceeds the limit of 1048576 bytes/);
    assert.equal(await (await post(echo(), "/bytes", new Uint8Array(1024 * 1024))).text(), "1048576");
  });

  test("a streamed body without Content-Length is cut at the limit", async () => {
    const chunks = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(64));
      },
    });
    const res = await post(echo(100), "/bytes", chunks);
    assert.equal(res.status, 413);
  });

  test("the body stream errors with 413 past the limit", async () => {
    const res = await post(
      echo(10),
      "/stream",
      new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(8));
          c.enqueue(new Uint8Array(8));
          c.close();
        },
      }),
    );
    assert.equal(res.status, 413);
    assert.equal(await (await post(echo(10), "/stream", "12345")).text(), "5");
  });

  test("bodyLimit must be a non-negative integer", () => {
    assert.throws(() => new Router({ bodyLimit: -1 }), /bodyLimit must be a non-negative integer/);
  });
});
