// Request semantics on the wire, per runtime and path: which authority a request is for
// (absolute-form targets, Host), framing and version rules the native parsers leave to tako,
// client mistakes that must not count as server errors (an abandoned upload), a streamed
// response that fails midway, and whether `Connection: close` closes. Raw sockets, node:tls
// and node:http2 clients against test/semantics/_main.ts. Where a runtime cannot do what the
// rule says, the case states that runtime's outcome and why; docs/runtime-coverage.md carries it.
import assert from "node:assert/strict";
import { constants as h2constants } from "node:http2";
import { connect as tlsConnect } from "node:tls";
import { before, describe, test } from "node:test";
import { parseResponses, RawConn, type RawResponse } from "../_shared/conn.ts";
import { h2, h2Session } from "../_shared/h2-client.ts";
import { http } from "../_shared/http-client.ts";
import { type Fixture, type Runtime, useFixture } from "../_shared/spawn.ts";

const FIXTURE = "test/semantics/_main.ts";
const opts = { timeout: 30_000 };

/** Every stdout line of a fixture from the moment this is called. */
function stdoutLines(f: Fixture): string[] {
  const lines: string[] = [];
  let rest = "";
  f.child.stdout!.on("data", (d: Buffer) => {
    const parts = (rest + d.toString()).split("\n");
    rest = parts.pop()!;
    lines.push(...parts);
  });
  return lines;
}

/** Serves GET /mark/<id> and waits for its line: every line the fixture printed before is in. */
async function mark(f: Fixture, id: string): Promise<void> {
  assert.equal((await http(f.port, `/mark/${id}`)).text, "marked");
  await f.waitForLine(new RegExp(`^MARK ${id}$`));
}

/** A stack trace or an error report in what a fixture wrote to stderr. */
const STACK = /\n\s+at |^\s*at |error:|Error:/m;

/** Sends `bytes` (latin1) on a fresh connection and waits for the first response or the close. */
async function ask(port: number, bytes: string): Promise<{ conn: RawConn; res: RawResponse | undefined }> {
  const conn = await RawConn.open(port);
  conn.socket.write(Buffer.from(bytes, "latin1"));
  const [res] = await conn.responses(1, 10_000);
  return { conn, res };
}

export function semanticsSuite(runtime: Runtime): void {
  const label = runtime === "node" ? "node" : `${runtime}, ${runtime === "bun" ? "Bun.listen" : "Deno.listen"} + codec`;
  const env = { TAKO_CONFIG: "{}" };

  describe(`request head: authority, Host, framing, version (${label})`, () => {
    const fx = useFixture(runtime, FIXTURE, env);
    const json = (res: RawResponse | undefined): unknown => JSON.parse(res?.body ?? "null");

    /**
     * After tako refused a head it answers `Connection: close`; every listener then closes
     * (`byTako`: tako's refusal rather than the runtime parser's; both close).
     */
    async function closedAfterRefusal(conn: RawConn, _byTako: boolean): Promise<void> {
      await conn.closed;
      conn.destroy();
    }

    test("absolute-form target: its authority replaces Host in req.header() and req.headers; target, path and query from it", opts, async () => {
      const { conn, res } = await ask(fx.port, "GET http://evil.example:8080/authority?q=1 HTTP/1.1\r\nHost: good.example\r\n\r\n");
      assert.equal(res?.status, 200, conn.text);
      const host = "evil.example:8080";
      assert.deepEqual(json(res), { host, hosts: host, target: "/authority?q=1", path: "/authority", query: "q=1" });
      conn.destroy();
      const bare = await ask(fx.port, "GET http://evil.example HTTP/1.1\r\nHost: good.example\r\n\r\n");
      assert.equal(bare.res?.status, 200);
      assert.equal(bare.res?.body, "ok", "an absolute-form target without a path is `/`");
      bare.conn.destroy();
    });

    const absoluteRefused: [name: string, target: string][] = [
      ["userinfo", "http://user@evil.example/authority"],
      ["a scheme other than http(s)", "ftp://evil.example/authority"],
      ["a scheme other than http(s) and the Host's authority", "ftp://good.example/authority"],
      ["an invalid port", "http://evil.example:8x/authority"],
    ];
    for (const [name, target] of absoluteRefused) {
      test(`absolute-form target with ${name} → 400`, opts, async () => {
        const { conn, res } = await ask(fx.port, `GET ${target} HTTP/1.1\r\nHost: good.example\r\n\r\n`);
        assert.equal(res?.status, 400, conn.text);
        await closedAfterRefusal(conn, true);
      });
    }

    test("two Host lines → 400", opts, async () => {
      const { conn, res } = await ask(fx.port, "GET /authority HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n");
      assert.equal(res?.status, 400, conn.text);
      await closedAfterRefusal(conn, true);
    });

    const badHosts = ["a b", "a/admin", "a@b", "a:x", "a:80:80", "[::1", "::1", ":80", "a%zz", "[fe80::1%25eth0]", "b\u00fccher.example"];
    for (const value of badHosts) {
      test(`Host ${JSON.stringify(value)} (not host[:port]) → 400`, opts, async () => {
        const { conn, res } = await ask(fx.port, `GET /authority HTTP/1.1\r\nHost: ${value}\r\n\r\n`);
        assert.equal(res?.status, 400, conn.text);
        assert.doesNotMatch(res?.body ?? "", /"host"/, "the handler must not run");
        await closedAfterRefusal(conn, true);
      });
    }

    const goodHosts = ["", "A.Example:8080", "a.example.", "[::1]:80", "[2001:db8::7]", "[v7.fe:80]", "192.0.2.1:8", "a!$&'()*+,;=~-._b", "xn--bcher-kva.example", "a:"];
    test(`valid Host values are served and reach the handler as sent: ${goodHosts.map((h) => JSON.stringify(h)).join(" ")}`, opts, async () => {
      for (const value of goodHosts) {
        const { conn, res } = await ask(fx.port, `GET /authority HTTP/1.1\r\nHost: ${value}\r\n\r\n`);
        assert.equal(res?.status, 200, `${JSON.stringify(value)}: ${conn.text}`);
        assert.equal((json(res) as { host: string }).host, value);
        conn.destroy();
      }
    });

    test("an HTTP/1.1 request without Host → 400; HTTP/1.0 without Host is served", opts, async () => {
      const { conn, res } = await ask(fx.port, "GET /authority HTTP/1.1\r\n\r\n");
      assert.equal(res?.status, 400, conn.text);
      await conn.closed;
      const old = await ask(fx.port, "GET /authority HTTP/1.0\r\n\r\n");
      assert.equal(old.res?.status, 200, old.conn.text);
      old.conn.destroy();
    });

    const framing: [name: string, head: string][] = [
      ["Transfer-Encoding: identity, chunked", "Transfer-Encoding: identity, chunked\r\n"],
      ["Transfer-Encoding: identity and chunked on two lines", "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"],
      ["Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n"],
    ];
    for (const [name, head] of framing) {
      test(`${name} → 400 and close; the body is never handed to the handler as chunked`, opts, async () => {
        const { conn, res } = await ask(fx.port, `POST /upload?id=te HTTP/1.1\r\nHost: t\r\n${head}\r\n3\r\nabc\r\n0\r\n\r\nGET /mark/smuggled HTTP/1.1\r\nHost: t\r\n\r\n`);
        assert.equal(res?.status, 400, conn.text);
        // tako refuses it on the node:http paths; Bun.serve's and Deno.serve's parsers themselves.
        await conn.closed;
        assert.equal(conn.statuses.length, 1, `one answer, then close: ${conn.text}`);
      });
    }

    test("Transfer-Encoding: Chunked (any case) is chunked", opts, async () => {
      const { conn, res } = await ask(fx.port, "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
      assert.equal(res?.status, 200, conn.text);
      assert.deepEqual(json(res), { bytes: 3 });
      conn.destroy();
    });

    test("DEL (0x7f) in a header value → 400", opts, async () => {
      const { conn, res } = await ask(fx.port, "GET /authority HTTP/1.1\r\nHost: t\r\nX-A: a\x7fb\r\n\r\n");
      assert.equal(res?.status, 400, conn.text);
      // Every parser refuses it itself.
      await closedAfterRefusal(conn, false);
    });

    test("HTTP/2.0 in an HTTP/1.1 request line → 505", opts, async () => {
      const { conn, res } = await ask(fx.port, "GET /authority HTTP/2.0\r\nHost: t\r\n\r\n");
      assert.equal(res?.status, 505, conn.text);
      await conn.closed;
    });

    test("the server still answers after all of the above", opts, async () => {
      assert.equal((await http(fx.port, "/")).text, "ok");
    });
  });

  describe(`client errors are not server errors; stream errors reach onError (${label}, HTTP/1.1)`, () => {
    const fx = useFixture(runtime, FIXTURE, env);
    let lines: string[] = [];
    before(() => {
      lines = stdoutLines(fx.f);
    });

    for (const route of ["/upload", "/upload-stream"]) {
      const style = route === "/upload" ? "req.bytes()" : "req.body";
      test(`an upload abandoned midway (${style}), 20 times: answered as a client error, no stack trace, nothing for onError, other clients served`, {
        timeout: 120_000,
      }, async () => {
        const f = fx.f;
        const errFrom = f.stderr().length;
        for (let i = 0; i < 20; i++) {
          const id = `${route.slice(1)}-${i}`;
          const conn = await RawConn.open(f.port);
          conn.send(`POST ${route}?id=${id} HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n${"x".repeat(50_000)}`);
          await f.waitForLine(new RegExp(`^READING ${id}$`));
          conn.reset();
          const [, status] = await f.waitForLine(new RegExp(`^UPLOAD-FAILED ${id} (\\d+)$`));
          assert.equal(status, "400", `the failed read of ${id} must be a client error (HttpError 400)`);
          assert.equal((await http(f.port, "/")).text, "ok");
        }
        await mark(f, `aborted${route.replaceAll("/", "-")}`);
        assert.deepEqual(
          lines.filter((l) => l.startsWith("ONERROR")),
          [],
        );
        assert.doesNotMatch(f.stderr().slice(errFrom), STACK);
      });
    }

    test("a streamed response that fails midway: the body is cut, router.onError gets the error once, nothing logged", opts, async () => {
      const f = fx.f;
      const errFrom = f.stderr().length;
      const from = lines.length;
      const conn = await RawConn.open(f.port);
      conn.send("GET /stream-throws?id=h1 HTTP/1.1\r\nHost: t\r\n\r\n");
      await conn.closed;
      assert.match(conn.text, /\r\n\r\n6\r\nfirst\n\r\n$/, "the first chunk, then the connection cut without the last chunk");
      await mark(f, "stream-h1");
      assert.deepEqual(
        lines.slice(from).filter((l) => l.startsWith("ONERROR")),
        ["ONERROR /stream-throws Error"],
      );
      assert.doesNotMatch(f.stderr().slice(errFrom), STACK);
    });
  });

  describe(`Connection: close (${label}, HTTP/1.1)`, () => {
    const fx = useFixture(runtime, FIXTURE, env);

    test("a 413 closes the connection", opts, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n{");
      const [answer] = await conn.responses(1, 10_000);
      assert.equal(answer?.status, 413);
      assert.ok(
        answer?.headers.some(([n, v]) => n === "connection" && v === "close"),
        "413 says Connection: close",
      );
      await conn.closed;
    });

    test("a response with Connection: close closes the connection", opts, async () => {
      const conn = await RawConn.open(fx.port);
      conn.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n");
      const [answer] = await conn.responses(1, 10_000);
      assert.equal(answer?.body, "bye");
      await conn.closed;
      conn.destroy();
    });
  });
}

/** The same rules over TLS (HTTP/1.1 by ALPN), on the runtime's TLS listener. */
export function semanticsTlsSuite(runtime: Runtime): void {
  describe(`request head over TLS, HTTP/1.1 (${runtime})`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_PROTO: "tls" });

    function askTls(bytes: string): Promise<{ res: RawResponse | undefined; text: string }> {
      return new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: "127.0.0.1", port: fx.port, servername: "localhost", rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
        let text = "";
        socket.on("secureConnect", () => socket.write(Buffer.from(bytes, "latin1")));
        socket.on("data", (d: Buffer) => {
          text += d.toString("latin1");
          const [res] = parseResponses(text);
          if (res !== undefined) {
            socket.destroy();
            resolve({ res, text });
          }
        });
        socket.on("error", reject);
        socket.on("close", () => resolve({ res: parseResponses(text, true)[0], text }));
      });
    }

    test("absolute-form target: its authority replaces Host", opts, async () => {
      const { res, text } = await askTls("GET https://evil.example/authority HTTP/1.1\r\nHost: good.example\r\n\r\n");
      assert.equal(res?.status, 200, text);
      assert.deepEqual(JSON.parse(res!.body), { host: "evil.example", hosts: "evil.example", target: "/authority", path: "/authority", query: "" });
    });

    for (const [name, head] of [
      ["an invalid Host", "Host: a/admin\r\n"],
      ["two Host lines", "Host: a.example\r\nHost: b.example\r\n"],
      ["DEL in a header value", "Host: t\r\nX-A: a\x7fb\r\n"],
    ]) {
      test(`${name} → 400`, opts, async () => {
        const { res, text } = await askTls(`GET /authority HTTP/1.1\r\n${head}\r\n`);
        assert.equal(res?.status, 400, text);
      });
    }
  });
}

/** Client errors and stream errors over h2c (Node: node:http2; Bun and Deno: tako's HTTP/2 codec). */
export function semanticsH2cSuite(runtime: Runtime): void {
  describe(`client errors are not server errors; stream errors reach onError (${runtime}, h2c)`, () => {
    const fx = useFixture(runtime, FIXTURE, { TAKO_PROTO: "h2c" });
    let lines: string[] = [];
    before(() => {
      lines = stdoutLines(fx.f);
    });

    for (const route of ["/upload", "/upload-stream"]) {
      const style = route === "/upload" ? "req.bytes()" : "req.body";
      test(`an upload whose stream the client resets midway (${style}), 20 times: a client error, no stack trace, nothing for onError, other streams served`, {
        timeout: 120_000,
      }, async () => {
        const f = fx.f;
        const errFrom = f.stderr().length;
        const session = await h2Session(f.port);
        try {
          for (let i = 0; i < 20; i++) {
            const id = `h2${route.replaceAll("/", "-")}-${i}`;
            const stream = session.request({ ":method": "POST", ":path": `${route}?id=${id}`, "content-length": "100000" });
            stream.on("error", () => {});
            stream.write("x".repeat(50_000));
            await f.waitForLine(new RegExp(`^READING ${id}$`));
            stream.close(h2constants.NGHTTP2_CANCEL);
            const [, status] = await f.waitForLine(new RegExp(`^UPLOAD-FAILED ${id} (\\d+)$`));
            assert.equal(status, "400", `the failed read of ${id} must be a client error (HttpError 400)`);
            assert.equal((await h2(session, "/")).text, "ok");
          }
        } finally {
          session.close();
        }
        await mark(f, `h2-aborted${route.replaceAll("/", "-")}`);
        assert.deepEqual(
          lines.filter((l) => l.startsWith("ONERROR")),
          [],
        );
        assert.doesNotMatch(f.stderr().slice(errFrom), STACK);
      });
    }

    test("a streamed response that fails midway: router.onError gets the error once, nothing logged", opts, async () => {
      const f = fx.f;
      const errFrom = f.stderr().length;
      const from = lines.length;
      const session = await h2Session(f.port);
      try {
        const stream = session.request({ ":path": "/stream-throws?id=h2" });
        let body = "";
        stream.on("data", (d: Buffer) => (body += d.toString()));
        stream.on("error", () => {});
        await new Promise((resolve) => stream.on("close", resolve));
        assert.equal(body, "first\n");
      } finally {
        session.close();
      }
      await mark(f, "stream-h2");
      assert.deepEqual(
        lines.slice(from).filter((l) => l.startsWith("ONERROR")),
        ["ONERROR /stream-throws Error"],
      );
      assert.doesNotMatch(f.stderr().slice(errFrom), STACK);
    });
  });
}
