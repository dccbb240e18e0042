// The h2c suite: the conformance app served with spawnH2c under one runtime, probed over real
// loopback sockets with Node's http2 client, curl --http2-prior-knowledge and a raw-frame client
// (limits, floods, drain). Two fixtures per runtime: one with the default config (an h2c-only
// port), one with small limits and HTTP/1.1 on the same port, which the drain test stops last.
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { after, before, describe, test } from "node:test";
import { h2, h2Session, remoteSettings } from "../_shared/h2-client.ts";
import { curl, http } from "../_shared/http-client.ts";
import { startFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";
import { DENO_FIXED, limitsSuite, LIMITS_CONFIG } from "./_limits.ts";

const MiB = 1024 * 1024;

export function h2cSuite(runtime: Runtime): void {
  let f: Fixture;
  let port = 0;
  let session: ClientHttp2Session;
  before(async () => {
    f = await startFixture(runtime, "test/h2/_main.ts");
    port = f.port;
    session = await h2Session(port);
  });
  after(async () => {
    session?.destroy();
    assert.equal(f.child.exitCode, null, `${runtime} fixture died; stderr:\n${f.stderr()}`);
    await f.stop();
  });

  describe(`the same Router over h2c (${runtime})`, () => {
    test("default SETTINGS: 100 streams, 16 KiB header list (Deno.serve: its fixed 200 streams)", async () => {
      const s = await remoteSettings(session);
      assert.equal(s.maxConcurrentStreams, runtime === "deno" ? DENO_FIXED.maxConcurrentStreams : 100);
      assert.equal(s.maxHeaderListSize, runtime === "deno" ? DENO_FIXED.maxHeaderListSize : 16 * 1024);
    });

    test("text, params, catch-all, query, state, conn info says 2.0", async () => {
      const root = await h2(session, "/");
      assert.equal(root.status, 200);
      assert.equal(root.text, "Hello, World!");
      assert.equal(root.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(root.headers["content-length"], "13");
      assert.deepEqual(JSON.parse((await h2(session, "/users/caf%C3%A9")).text), { id: "café" });
      assert.deepEqual(JSON.parse((await h2(session, "/files/a/b/c.txt")).text), { rest: "a/b/c.txt" });
      assert.deepEqual(JSON.parse((await h2(session, "/query?a=1&a=2")).text), { raw: "a=1&a=2", a: ["1", "2"] });
      assert.equal((await h2(session, "/state")).text, "fixture");
      const conn = JSON.parse((await h2(session, "/conn")).text);
      assert.equal(conn.httpVersion, "2.0");
      assert.equal(conn.remoteAddress, "127.0.0.1");
      assert.equal(conn.remotePort, session.socket.localPort);
      assert.equal(conn.localPort, port);
      assert.equal(conn.tls, null);
    });

    test("JSON echo, invalid JSON, headers and Host from :authority", async () => {
      const body = JSON.stringify({ hello: "tako", n: [1, 2, 3] });
      const ok = await h2(session, "/echo", { method: "POST", body, headers: { "content-type": "application/json" } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(ok.text), JSON.parse(body));
      const bad = await h2(session, "/echo", { method: "POST", body: "{oops" });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /^invalid JSON in request body/);
      const h = await h2(session, "/header", { headers: { "x-probe": "v1" } });
      assert.deepEqual(JSON.parse(h.text), { value: "v1", viaHeaders: "v1" });
    });

    test("404, 405 with Allow, HEAD without body, OPTIONS, 501", async () => {
      assert.equal((await h2(session, "/missing")).status, 404);
      const m = await h2(session, "/users/1", { method: "DELETE" });
      assert.equal(m.status, 405);
      assert.equal(m.headers["allow"], "GET, HEAD, PUT, OPTIONS");
      const head = await h2(session, "/users/1", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers["content-type"], "application/json");
      assert.equal(head.body.length, 0);
      const headStream = await h2(session, "/stream/head", { method: "HEAD" });
      assert.equal(headStream.status, 200);
      assert.equal(headStream.body.length, 0);
      const opt = await h2(session, "/users/1", { method: "OPTIONS" });
      assert.equal(opt.status, 204);
      assert.equal((await h2(session, "/users/1", { method: "PROPFIND" })).status, 501);
    });

    test("errors: 500 without a stack trace, HttpError status, bad header value → 500", async () => {
      for (const path of ["/boom", "/boom-async", "/bad-header"]) {
        const res = await h2(session, path);
        assert.equal(res.status, 500, path);
        assert.equal(res.text, "Internal Server Error");
        assert.equal(res.headers["x-bad"], undefined);
      }
      const tea = await h2(session, "/teapot");
      assert.equal(tea.status, 418);
      assert.equal(tea.text, "short and stout");
    });

    test("bytes, 1 MiB body, Fetch Response, two Set-Cookie, middleware", async () => {
      assert.deepEqual([...(await h2(session, "/bytes")).body], [0, 1, 2, 253, 254, 255]);
      const big = await h2(session, "/big");
      assert.equal(big.body.length, MiB);
      assert.ok(big.body.every((b) => b === 120));
      const r = await h2(session, "/response");
      assert.equal(r.status, 202);
      assert.equal(r.headers["x-from"], "response");
      assert.equal(r.text, "fetch response");
      assert.deepEqual((await h2(session, "/cookies")).headers["set-cookie"], ["a=1", "b=2"]);
      const mw = await h2(session, "/mw/x");
      assert.equal(mw.headers["x-mw"], "1");
    });

    test("connection-specific HTTP/1.1 headers never go out on HTTP/2", async () => {
      const res = await h2(session, "/h2/connection-header");
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.equal(res.headers["x-kept"], "yes");
      for (const name of ["connection", "keep-alive", "transfer-encoding"]) assert.equal(res.headers[name], undefined, name);
      // The 413 answer carries Connection: close on HTTP/1.1; on HTTP/2 the stream is reset instead.
      const tooBig = await h2(session, "/echo-bytes", { method: "POST", body: new Uint8Array(MiB + 1) });
      assert.equal(tooBig.status, 413);
      assert.equal(tooBig.headers["connection"], undefined);
    });

    test("request bodies: binary round trip, streamed upload without length, 413 past the limit", async () => {
      const bin = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
      const echoed = await h2(session, "/echo-bytes", { method: "POST", body: bin });
      assert.ok(Buffer.from(bin).equals(echoed.body));
      const parts = Array.from({ length: 10 }, () => new Uint8Array(50_000));
      assert.deepEqual(JSON.parse((await h2(session, "/count", { method: "POST", body: parts })).text), { bytes: 500_000 });
      // No content-length: the limit is enforced while reading, and the session survives.
      const over = await h2(session, "/count", { method: "POST", body: Array.from({ length: 24 }, () => new Uint8Array(50_000)) }).catch((e: Error) => e);
      if (!(over instanceof Error)) assert.equal(over.status, 413);
      assert.equal((await h2(session, "/")).status, 200);
    });

    test("streamed response: the first chunk arrives before the stream ends", async () => {
      const id = `h2s${Date.now()}`;
      const chunks: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ":path": `/stream/${id}` });
        stream.setEncoding("utf8");
        stream.on("data", (c: string) => {
          chunks.push(c);
          if (chunks.join("") === "first\n") {
            h2(session, `/release/${id}`, { method: "POST" }).then((r) => assert.deepEqual(JSON.parse(r.text), { released: true })).catch(reject);
          }
        });
        stream.on("end", () => resolve());
        stream.on("error", reject);
      });
      assert.equal(chunks.join(""), "first\nsecond\n");
    });

    test("100 concurrent streams on one connection all get their own answer", async () => {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => h2(session, `/users/${i}`)));
      results.forEach((r, i) => assert.deepEqual(JSON.parse(r.text), { id: String(i) }));
    });

    test("curl --http2-prior-knowledge: GET, POST JSON, HEAD, 404, 405", async () => {
      const h2c = "--http2-prior-knowledge";
      assert.equal(await curl([h2c, `${f.url}/`]), "Hello, World!");
      assert.equal(await curl([h2c, "-X", "POST", "-H", "content-type: application/json", "--data", '{"a":1}', `${f.url}/echo`]), '{"a":1}');
      const head = await curl([h2c, "-I", `${f.url}/users/9`]);
      assert.match(head, /^HTTP\/2 200/);
      assert.match(head, /content-type: application\/json/i);
      assert.equal(await curl([h2c, "-o", "/dev/null", "-w", "%{http_code}", `${f.url}/nope`]), "404");
      assert.equal(await curl([h2c, "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", `${f.url}/`]), "405");
    });

    test("an h2c-only port does not answer HTTP/1.1 as if it were HTTP/2", async () => {
      const res = await http(port, "/").catch((e: Error) => e);
      assert.ok(res instanceof Error || res.status >= 400, "HTTP/1.1 on an h2c-only port must fail");
      assert.equal((await h2(port, "/")).status, 200, "the server keeps serving h2c");
    });
  });

  if (runtime === "deno") {
    describe("spawnH2c on Deno refuses the fields Deno.serve cannot honour", () => {
      for (const field of ["h2MaxConcurrentStreams", "h2KeepAliveInterval", "maxConnections"] as const) {
        test(`${field} set → a clear error at spawn, naming the field`, async () => {
          const started = await startFixture(runtime, "test/h2/_main.ts", { TAKO_CONFIG: JSON.stringify({ [field]: LIMITS_CONFIG[field] }) }).catch((e: Error) => e);
          assert.ok(started instanceof Error, "the fixture must not start");
          assert.match(started.message, new RegExp(`TAKO_ERR_UNSUPPORTED|cannot honour "${field}"`));
          assert.match(started.message, new RegExp(`"${field}"`));
        });
      }
    });
  }
  // Deno: the defaults (spawnH2c refuses the limits there); the limit tests it cannot pass are not registered.
  const config = runtime === "deno" ? { drainTimeout: 5000 } : LIMITS_CONFIG;
  limitsSuite(runtime, () => startFixture(runtime, "test/h2/_main.ts", { TAKO_CONFIG: JSON.stringify(config), TAKO_H2C_HTTP1: "1" }));
}
