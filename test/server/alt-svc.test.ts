// Alt-Svc advertising (builder.altSvc, spawnTls { http3: true }) and the paired TCP + HTTP/3
// serving behind one handle. The header is added by one dispatcher wrapper, so it is proven here
// in process on Node over HTTP/1.1 and h2c for every kind of handler result; the wire suite
// (test/h3/) proves it over TLS with the HTTP/3 side answering.
import assert from "node:assert/strict";
import { connect } from "node:http2";
import { after, before, describe, test } from "node:test";
import { HttpError, Reply, Router, Server, TakoError, TcpListener, type ServerHandle } from "../../src/index.ts";
import type { H3Serving, Serving } from "../../src/adapters/engine.ts";
import { PairedServing } from "../../src/server/paired.ts";
import { http } from "../_shared/http-client.ts";

const ALT = 'h3=":443"; ma=60';

function app(): Router {
  const router = new Router();
  router.onError(() => {});
  router.get("/text", () => "text");
  router.get("/json", () => ({ a: 1 }));
  router.get("/async", async () => "async");
  router.get("/reply", () => new Reply("reply", 201, { "x-own": "kept" }));
  router.get("/response", () => new Response("response", { headers: { "x-own": "kept" } }));
  router.get("/redirect", () => Response.redirect("http://127.0.0.1/elsewhere", 302)); // immutable headers
  router.get("/stream", () =>
    (async function* () {
      yield "a";
      yield "b";
    })(),
  );
  router.get("/http-error", () => {
    throw new HttpError(418, "teapot");
  });
  router.get("/boom", async () => {
    throw new Error("hidden");
  });
  return router;
}

describe("builder.altSvc(value) on spawnHttp and spawnH2c", () => {
  let h1: ServerHandle;
  let h2c: ServerHandle;
  let plain: ServerHandle;
  before(async () => {
    const server = Server.builder().altSvc(ALT).build();
    h1 = server.spawnHttp(await TcpListener.bind("127.0.0.1:0"), app());
    h2c = server.spawnH2c(await TcpListener.bind("127.0.0.1:0"), app());
    plain = Server.builder()
      .build()
      .spawnHttp(await TcpListener.bind("127.0.0.1:0"), app());
  });
  after(async () => {
    await Promise.all([h1.shutdown(1000), h2c.shutdown(1000), plain.shutdown(1000)]);
  });

  test("HTTP/1.1: every kind of result carries it, the handler's own headers and bodies kept", async () => {
    const port = h1.localAddr().port;
    const cases: [string, number, string][] = [
      ["/text", 200, "text"],
      ["/json", 200, '{"a":1}'],
      ["/async", 200, "async"],
      ["/reply", 201, "reply"],
      ["/response", 200, "response"],
      ["/redirect", 302, ""],
      ["/stream", 200, "ab"],
      ["/http-error", 418, "teapot"],
      ["/boom", 500, "Internal Server Error"],
      ["/missing", 404, "Not Found"],
    ];
    for (const [path, status, body] of cases) {
      const r = await http(port, path);
      assert.equal(r.status, status, path);
      assert.equal(r.text, body, path);
      assert.equal(r.headers["alt-svc"], ALT, path);
      if (path === "/reply" || path === "/response") assert.equal(r.headers["x-own"], "kept", path);
    }
    const head = await http(port, "/text", { method: "HEAD" });
    assert.equal(head.headers["alt-svc"], ALT);
  });

  test("h2c: carried on HTTP/2 responses too", async () => {
    const session = connect(`http://127.0.0.1:${h2c.localAddr().port}`);
    try {
      for (const path of ["/text", "/missing"]) {
        const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
          const stream = session.request({ ":path": path });
          stream.on("response", (h) => resolve(h));
          stream.on("error", reject);
          stream.resume();
        });
        assert.equal(headers["alt-svc"], ALT, path);
      }
    } finally {
      session.close();
    }
  });

  test("without it, no Alt-Svc", async () => {
    const r = await http(plain.localAddr().port, "/text");
    assert.equal(r.headers["alt-svc"], undefined);
  });

  test("a bad value is refused at the builder, naming it", () => {
    for (const bad of ["", 'h3=":443"\r\nx-injected: 1', " h3", "x".repeat(1025), 42]) {
      assert.throws(
        () => Server.builder().altSvc(bad as string),
        (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_CONFIG" && /altSvc/.test(e.message),
      );
    }
    assert.doesNotThrow(() => Server.builder().altSvc("clear").altSvc(null));
  });
});

/** A controllable Serving: counts drain/forceClose, `closed` resolves on `end()`. */
function fakeServing(readyError: unknown = null) {
  const calls: string[] = [];
  let end!: () => void;
  const closed = new Promise<void>((resolve) => (end = resolve));
  const serving: H3Serving & Serving = {
    closed,
    ready: readyError === null ? Promise.resolve() : Promise.reject(readyError),
    drain: () => calls.push("drain"),
    forceClose: () => {
      calls.push("force");
      end();
    },
    localAddr: () => ({ address: "127.0.0.1", port: 1, family: "IPv4" }),
  };
  serving.ready.catch(() => {});
  return { serving, calls, end: () => end() };
}

describe("PairedServing (TCP + HTTP/3 under one handle)", () => {
  test("a drain asked before HTTP/3 is up reaches it when it is; closed waits for both", async () => {
    const tcp = fakeServing();
    const h3 = fakeServing();
    let start!: (s: H3Serving) => void;
    const paired = new PairedServing(tcp.serving, new Promise((resolve) => (start = resolve)));
    paired.drain();
    assert.deepEqual(tcp.calls, ["drain"]);
    start(h3.serving);
    await paired.ready;
    assert.deepEqual(h3.calls, ["drain"]);
    let closed = false;
    paired.closed.then(() => (closed = true));
    tcp.end();
    await new Promise((r) => setImmediate(r));
    assert.equal(closed, false, "closed before the HTTP/3 side stopped");
    h3.end();
    await paired.closed;
  });

  test("HTTP/3 failing to start rejects ready and force-closes the TCP side", async () => {
    const tcp = fakeServing();
    const paired = new PairedServing(tcp.serving, Promise.reject(new TakoError("TAKO_ERR_LISTEN", "udp taken")));
    await assert.rejects(paired.ready, (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_LISTEN");
    assert.deepEqual(tcp.calls, ["force"]);
    await paired.closed;
  });

  test("forceClose reaches both sides, also when HTTP/3 comes up later", async () => {
    const tcp = fakeServing();
    const h3 = fakeServing();
    let start!: (s: H3Serving) => void;
    const paired = new PairedServing(tcp.serving, new Promise((resolve) => (start = resolve)));
    paired.forceClose();
    start(h3.serving);
    await paired.closed;
    assert.deepEqual(tcp.calls, ["force"]);
    assert.deepEqual(h3.calls, ["force"]);
  });
});

describe("spawnTls option http3", () => {
  test("a Unix listener or a bad value is refused at once", async () => {
    const { testCerts } = await import("../_shared/certs.ts");
    const { TlsCert, UnixListener } = await import("../../src/index.ts");
    const certs = testCerts();
    const server = Server.builder().tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build();
    const path = `/tmp/tako-alt-svc-${process.pid}.sock`;
    const unix = await UnixListener.bind(path);
    try {
      assert.throws(
        () => server.spawnTls(unix, app(), { http3: true }),
        (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_UNSUPPORTED",
      );
    } finally {
      await unix.close();
    }
    const tcp = await TcpListener.bind("127.0.0.1:0");
    try {
      assert.throws(() => server.spawnTls(tcp, app(), { http3: "yes" as unknown as boolean }), TypeError);
    } finally {
      await tcp.close();
    }
  });
});
