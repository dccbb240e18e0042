// The contract suite: every behaviour of the Router on the wire, written once and run over every
// client kind (_clients.ts: h1, h2c, tls-h1, tls-h2, proxy-v1, proxy-v2) against one fixture
// process per runtime that serves the same app on all its listeners (_main.ts). Where a runtime
// or transport legitimately differs, the case says what that one answers instead (the README
// coverage table carries the difference); no case is skipped.
import assert from "node:assert/strict";
import { before, after, describe, test } from "node:test";
import { testCerts, type TestCerts } from "../_shared/certs.ts";
import { curl } from "../_shared/http-client.ts";
import { useFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";
import { CLIENT_KINDS, curlTarget, isConnectionCut, openClient, proxyRelay, type Client, type ContractResponse, type Ports } from "./_clients.ts";

const MiB = 1024 * 1024;

interface Ctx {
  readonly runtime: Runtime;
  readonly ports: Ports;
  readonly certs: TestCerts;
  readonly f: Fixture;
}

interface Case {
  readonly name: string;
  run(c: Client, ctx: Ctx): Promise<void>;
}

const json = (r: ContractResponse): unknown => JSON.parse(r.text);
let streamIds = 0;

const CASES: Case[] = [
  {
    name: "text, percent-decoded params, catch-all, query, state",
    async run(c) {
      const root = await c.request({ path: "/" });
      assert.equal(root.status, 200);
      assert.equal(root.text, "Hello, World!");
      assert.equal(root.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(root.headers["content-length"], "13");
      assert.deepEqual(json(await c.request({ path: "/users/caf%C3%A9" })), { id: "café" });
      assert.deepEqual(json(await c.request({ path: "/files/a/b/c.txt" })), { rest: "a/b/c.txt" });
      assert.deepEqual(json(await c.request({ path: "/query?a=1&a=2" })), { raw: "a=1&a=2", a: ["1", "2"] });
      assert.equal((await c.request({ path: "/state" })).text, "fixture");
    },
  },
  {
    name: "JSON echo; invalid JSON is a 400 that says so",
    async run(c) {
      const body = JSON.stringify({ hello: "tako", n: [1, 2, 3] });
      const ok = await c.request({ method: "POST", path: "/echo", body, headers: { "content-type": "application/json" } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers["content-type"], "application/json");
      assert.deepEqual(json(ok), JSON.parse(body));
      const bad = await c.request({ method: "POST", path: "/echo", body: "{oops" });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /^invalid JSON in request body/);
    },
  },
  {
    name: "request headers in any case, through req.header() and req.headers; Host from the authority",
    async run(c) {
      assert.deepEqual(json(await c.request({ path: "/header", headers: { "X-PROBE": "v1" } })), { value: "v1", viaHeaders: "v1" });
      // HTTP/2 clients send :authority and no Host; every runtime's HTTP/2 (tako's codec on Bun
      // and Deno) hands it to the handler as Host.
      assert.deepEqual(json(await c.request({ path: "/host" })), { host: c.authority });
    },
  },
  {
    name: "404; 405 with Allow; HEAD without a body (also of a streamed route); OPTIONS 204 with Allow; 501",
    async run(c) {
      assert.equal((await c.request({ path: "/missing" })).status, 404);
      const wrong = await c.request({ method: "DELETE", path: "/users/1" });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers["allow"], "GET, HEAD, PUT, OPTIONS");
      const head = await c.request({ method: "HEAD", path: "/users/1" });
      assert.equal(head.status, 200);
      assert.equal(head.headers["content-type"], "application/json");
      assert.equal(head.body.length, 0);
      const headStream = await c.request({ method: "HEAD", path: "/stream/head" });
      assert.equal(headStream.status, 200);
      assert.equal(headStream.body.length, 0);
      const options = await c.request({ method: "OPTIONS", path: "/users/1" });
      assert.equal(options.status, 204);
      assert.equal(options.headers["allow"], "GET, HEAD, PUT, OPTIONS");
      assert.equal((await c.request({ method: "PROPFIND", path: "/users/1" })).status, 501);
    },
  },
  {
    name: "a thrown error (sync or async) is a 500 that leaks neither its message nor a stack",
    async run(c) {
      for (const path of ["/boom", "/boom-async"]) {
        const res = await c.request({ path });
        assert.equal(res.status, 500, path);
        assert.equal(res.text, "Internal Server Error");
        assert.doesNotMatch(JSON.stringify(res.headers), /secret/);
      }
    },
  },
  {
    name: "a response header value with CR/LF is a 500; nothing is injected",
    async run(c) {
      const res = await c.request({ path: "/bad-header" });
      assert.equal(res.status, 500);
      assert.equal(res.text, "Internal Server Error");
      assert.equal(res.headers["x-bad"], undefined);
      assert.equal(res.headers["injected"], undefined);
    },
  },
  {
    name: "HttpError keeps its status and message",
    async run(c) {
      const tea = await c.request({ path: "/teapot" });
      assert.equal(tea.status, 418);
      assert.equal(tea.text, "short and stout");
    },
  },
  {
    name: "bytes, a 1 MiB body, a Fetch Response with its status and headers, two Set-Cookie",
    async run(c) {
      const bytes = await c.request({ path: "/bytes" });
      assert.equal(bytes.headers["content-type"], "application/octet-stream");
      assert.deepEqual([...bytes.body], [0, 1, 2, 253, 254, 255]);
      const big = await c.request({ path: "/big" });
      assert.equal(big.body.length, MiB);
      assert.ok(
        big.body.every((b) => b === 120),
        "1 MiB of 'x'",
      );
      const r = await c.request({ path: "/response" });
      assert.equal(r.status, 202);
      assert.equal(r.headers["x-from"], "response");
      assert.equal(r.text, "fetch response");
      assert.deepEqual((await c.request({ path: "/cookies" })).headers["set-cookie"], ["a=1", "b=2"]);
    },
  },
  {
    name: "middleware: onion order around the handler; an early return skips the handler",
    async run(c) {
      const through = await c.request({ path: "/mw/x" });
      assert.equal(through.status, 200);
      assert.equal(through.text, "outer in, inner in, handler");
      assert.equal(through.headers["x-trail"], "inner out, outer out");
      assert.equal(through.headers["x-mw"], "1");
      const denied = await c.request({ path: "/mw/deny" });
      assert.equal(denied.status, 403);
      assert.equal(denied.text, "denied by middleware");
    },
  },
  {
    name: "HTTP/1.1 connection headers a handler sets never go out on HTTP/2",
    async run(c) {
      const res = await c.request({ path: "/hop-by-hop" });
      assert.equal(res.status, 200);
      assert.equal(res.text, "ok");
      assert.equal(res.headers["x-kept"], "yes");
      if (c.httpVersion === "2.0") {
        for (const name of ["connection", "keep-alive", "transfer-encoding"]) assert.equal(res.headers[name], undefined, name);
      }
    },
  },
  {
    name: "request bodies: a binary round trip of exactly the 1 MiB limit, a 500 KB upload streamed without a length",
    async run(c) {
      const bin = new Uint8Array(MiB).map((_, i) => (i * 7) % 256);
      const echoed = await c.request({ method: "POST", path: "/echo-bytes", body: bin });
      assert.equal(echoed.status, 200);
      assert.equal(echoed.headers["content-type"], "application/octet-stream");
      assert.ok(Buffer.from(bin).equals(echoed.body), `the bytes come back unchanged (${echoed.body.length} of ${MiB})`);
      const parts = Array.from({ length: 10 }, () => new Uint8Array(50_000));
      assert.deepEqual(json(await c.request({ method: "POST", path: "/count", body: parts })), { bytes: 500_000 });
    },
  },
  {
    name: "a body over the 1 MiB limit is a 413, declared or streamed; the server keeps serving",
    async run(c) {
      // HTTP/1.1: the server may answer and close while the client is still writing; then the
      // client's write fails with the connection cut. Any other outcome fails the case.
      const settle = async (req: Promise<ContractResponse>): Promise<ContractResponse | "cut"> =>
        req.catch((e: Error) => {
          if (c.httpVersion === "1.1" && isConnectionCut(e)) return "cut" as const;
          throw e;
        });
      const declared = await settle(c.request({ method: "POST", path: "/echo-bytes", body: new Uint8Array(MiB + 1) }));
      if (declared !== "cut") {
        assert.equal(declared.status, 413);
        assert.equal(declared.text, "request body exceeds the limit of 1048576 bytes");
        // HTTP/1.1: the connection is closed after it.
        const connection = declared.headers["connection"];
        if (c.httpVersion === "2.0") assert.equal(connection, undefined);
        else assert.equal(connection, "close");
      }
      // Read through req.body (the /count handler), no length declared.
      const streamed = c.request({ method: "POST", path: "/count", body: Array.from({ length: 24 }, () => new Uint8Array(50_000)) });
      // On HTTP/2 the limit, hit while the handler reads req.body, leaves the stream open for
      // the 413; the rest of the upload is discarded.
      const answer = await settle(streamed);
      if (answer !== "cut") assert.equal(answer.status, 413);
      assert.equal((await c.request({ path: "/" })).status, 200);
    },
  },
  {
    name: "a streamed response: the first chunk arrives before the handler produced the second",
    async run(c) {
      const id = `${c.kind}-${++streamIds}`;
      const chunks: string[] = [];
      let released: Promise<ContractResponse> | null = null;
      const res = await c.request({
        path: `/stream/${id}`,
        onChunk: (chunk) => {
          chunks.push(chunk.toString("utf8"));
          // Only now release the handler: it has not produced "second" yet.
          if (chunks.join("") === "first\n") released = c.request({ method: "POST", path: `/release/${id}` });
        },
      });
      assert.equal(res.text, "first\nsecond\n");
      assert.ok(released !== null, `the first chunk came alone: ${JSON.stringify(chunks)}`);
      assert.deepEqual(json(await released), { released: true });
    },
  },
  {
    name: "req.conn: addresses, ports, HTTP version, TLS facts, PROXY header",
    async run(c, { runtime, ports }) {
      const res = await c.request({ path: "/conn" });
      const conn = json(res) as Record<string, unknown> & { tls: Record<string, unknown> | null; proxy: Record<string, unknown> | null };
      assert.equal(conn.remoteAddress, res.peer.address);
      assert.equal(conn.remotePort, res.peer.port);
      assert.equal(conn.localAddress, "127.0.0.1");
      assert.equal(conn.localPort, c.port);
      assert.equal(conn.httpVersion, c.httpVersion);
      if (c.proxy === null) assert.equal(conn.proxy, null);
      else {
        assert.equal(conn.proxy?.version, c.proxy);
        assert.equal(conn.proxy?.command, "PROXY");
        assert.equal(conn.proxy?.sourceAddress, res.peer.address);
        assert.equal(conn.proxy?.destinationPort, ports.proxy);
      }
      if (!c.tls) return assert.equal(conn.tls, null);
      assert.equal(conn.tls?.alpnProtocol, c.alpn);
      assert.equal(conn.tls?.peerCertificate, null, "no client certificate without mTLS");
      if (runtime === "deno") {
        // A plain certificate runs on Deno.listenTls, which reports none of these.
        assert.deepEqual([conn.tls?.serverName, conn.tls?.protocol, conn.tls?.cipher], [null, null, null]);
        return;
      }
      assert.equal(conn.tls?.serverName, "localhost");
      assert.equal(conn.tls?.protocol, "TLSv1.3");
      assert.match(String(conn.tls?.cipher), /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
    },
  },
  {
    name: "keep-alive: requests on one connection are served in turn, all seen from the same peer",
    async run(c) {
      const one = c.keepAlive();
      try {
        const peers: string[] = [];
        const remote: string[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await one.request({ path: "/conn" });
          const conn = json(res) as { remoteAddress: string; remotePort: number };
          peers.push(`${res.peer.address}:${res.peer.port}`);
          remote.push(`${conn.remoteAddress}:${conn.remotePort}`);
        }
        assert.equal(new Set(peers).size, 1, `one connection: ${peers.join(" ")}`);
        assert.deepEqual(remote, peers);
      } finally {
        if (one !== c) one.close();
      }
    },
  },
  {
    name: "concurrent requests each get their own answer (HTTP/2: 100 streams on one connection)",
    async run(c) {
      const n = c.multiplexed ? 100 : 50;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => c.request({ path: `/users/${i}` })));
      results.forEach((r, i) => {
        assert.deepEqual(json(r), { id: String(i) });
      });
    },
  },
  {
    name: "curl agrees: GET, POST JSON, HEAD, 404, 405, and the HTTP version",
    async run(c, { ports, certs }) {
      const relay = c.proxy === null ? null : await proxyRelay(c.proxy, ports.proxy);
      try {
        const { base, args } = curlTarget(c.kind, ports, certs, relay?.port);
        assert.equal(await curl([...args, "-w", " %{http_version}", `${base}/`]), `Hello, World! ${c.httpVersion === "2.0" ? "2" : "1.1"}`);
        assert.equal(await curl([...args, "-X", "POST", "-H", "content-type: application/json", "--data", '{"a":1}', `${base}/echo`]), '{"a":1}');
        const head = await curl([...args, "-I", `${base}/users/9`]);
        assert.match(head, c.httpVersion === "2.0" ? /^HTTP\/2 200/ : /^HTTP\/1\.1 200/);
        assert.match(head, /content-type: application\/json/i);
        assert.equal(await curl([...args, "-o", "/dev/null", "-w", "%{http_code}", `${base}/nope`]), "404");
        assert.equal(await curl([...args, "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", `${base}/`]), "405");
        if (c.proxy !== null) {
          const seen = JSON.parse(await curl([...args, `${base}/conn`]));
          assert.equal(seen.proxy.version, c.proxy, "curl's connections went through the PROXY relay");
        }
      } finally {
        await relay?.close();
      }
    },
  },
];

/** The contract fixture's listener ports, from its LISTEN lines. */
async function portsOf(f: Fixture): Promise<Ports> {
  const port = async (name: string): Promise<number> => Number((await f.waitForLine(new RegExp(`^LISTEN ${name} (\\d+)$`)))[1]);
  return { h1: await port("h1"), h2c: await port("h2c"), tls: await port("tls"), proxy: await port("proxy") };
}

export function contractSuite(runtime: Runtime): void {
  describe(`the contract, one fixture, every client (${runtime})`, () => {
    const certs = testCerts();
    const fx = useFixture(runtime, "test/contract/_main.ts");
    let ctx: Ctx;
    before(async () => {
      ctx = { runtime, ports: await portsOf(fx.f), certs, f: fx.f };
    });

    for (const kind of CLIENT_KINDS) {
      describe(`over ${kind} (${runtime})`, () => {
        let client: Client;
        before(() => {
          client = openClient(kind, ctx.ports, certs);
        });
        after(() => client.close());
        for (const kase of CASES) test(kase.name, { timeout: 30_000 }, () => kase.run(client, ctx));
      });
    }
  });
}
