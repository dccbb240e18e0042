// The examples keep working: each is started on every runtime and asked what its header says.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { h2, h2Session } from "./_shared/h2-client.ts";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { RawConn } from "./_shared/conn.ts";
import { curl, http } from "./_shared/http-client.ts";
import { h3One } from "./_shared/h3.ts";
import { commandFor, RUNTIMES, startFixture } from "./_shared/spawn.ts";
import { lstatSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";

for (const runtime of RUNTIMES) {
  describe(`examples on ${runtime}`, () => {
    test("hello-world", async () => {
      const f = await startFixture(runtime, "examples/hello-world/main.ts", { ADDR: "127.0.0.1:0" });
      try {
        assert.equal((await http(f.port, "/")).text, "Hello, World!");
        assert.deepEqual(JSON.parse((await http(f.port, "/hello/tako")).text), { hello: "tako" });
      } finally {
        await f.stop();
      }
    });

    test("graceful-shutdown: SIGTERM lets the in-flight request finish", async () => {
      const f = await startFixture(runtime, "examples/graceful-shutdown/main.ts", { ADDR: "127.0.0.1:0" });
      try {
        // A request in flight for 600 ms (the example's own delay). The example prints nothing
        // per request, so the signal that the server has read it is an ordering one: its bytes
        // were in the kernel before a second connection was opened, and that second request has
        // been answered.
        const inFlight = await RawConn.open(f.port);
        await new Promise<void>((resolve) => inFlight.socket.write("GET /work/600 HTTP/1.1\r\nHost: t\r\n\r\n", () => resolve()));
        assert.equal((await http(f.port, "/")).text, "ok");
        f.child.kill("SIGTERM");
        const [res] = await inFlight.responses(1, 15_000);
        assert.ok(res !== undefined, `no answer to the in-flight request: ${JSON.stringify(inFlight.text)}`);
        assert.deepEqual(JSON.parse(res.body), { done: true, ms: 600 });
        assert.ok(
          res.headers.some(([name, value]) => name === "connection" && value === "close"),
          JSON.stringify(res.headers),
        );
        inFlight.destroy();
        await f.waitForLine(/^stopped: every in-flight request answered$/);
      } finally {
        await f.stop();
      }
    });

    test("readiness-drain: /readyz fails at SIGTERM while / is still served for shutdownDelay; a failing check fails it too", async () => {
      const f = await startFixture(runtime, "examples/readiness-drain/main.ts", { ADDR: "127.0.0.1:0", SHUTDOWN_DELAY: "1500" });
      try {
        assert.equal((await http(f.port, "/readyz")).status, 200);
        await http(f.port, "/dependency/down", { method: "POST" });
        const failing = await http(f.port, "/readyz");
        assert.equal(failing.status, 503);
        assert.deepEqual(JSON.parse(failing.text), { status: "failing", checks: { dependency: "fail" } });
        await http(f.port, "/dependency/up", { method: "POST" });
        assert.equal((await http(f.port, "/readyz")).status, 200);
        f.child.kill("SIGTERM");
        // The signal arrives asynchronously: poll (bounded) until readiness reports the drain.
        let draining = false;
        for (let i = 0; i < 50 && !draining; i++) {
          draining = (await http(f.port, "/readyz")).status === 503;
          if (!draining) await new Promise((r) => setTimeout(r, 20));
        }
        assert.ok(draining, "readiness never failed after SIGTERM");
        assert.equal((await http(f.port, "/")).text, "ok", "still serving during shutdownDelay");
        assert.equal((await http(f.port, "/livez")).status, 200);
        await f.waitForLine(/^stopped$/, 15_000);
      } finally {
        await f.stop();
      }
    });

    test("load-shedding: / gets 503 + Retry-After while /work holds the event loop, 200 after", async () => {
      const f = await startFixture(runtime, "examples/load-shedding/main.ts", { ADDR: "127.0.0.1:0" });
      try {
        const worker = await RawConn.open(f.port);
        const asker = await RawConn.open(f.port);
        worker.get("/work/800");
        await new Promise((r) => setTimeout(r, 200));
        asker.get("/");
        const [shed] = await asker.responses(1, 10_000);
        assert.equal(shed?.status, 503, asker.text);
        assert.ok(
          shed.headers.some(([name, value]) => name === "retry-after" && value === "1"),
          JSON.stringify(shed.headers),
        );
        assert.equal((await worker.responses(1, 10_000))[0]?.body, "worked 800 ms");
        worker.destroy();
        asker.destroy();
        await new Promise((r) => setTimeout(r, 800));
        assert.equal((await http(f.port, "/")).text, "ok");
      } finally {
        await f.stop();
      }
    });

    test("sse: ticks with ids; Last-Event-ID resumes after it", async () => {
      const f = await startFixture(runtime, "examples/sse/main.ts", { ADDR: "127.0.0.1:0", INTERVAL: "20" });
      try {
        const conn = await RawConn.open(f.port);
        conn.send("GET /clock HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 41\r\n\r\n");
        assert.ok(await conn.waitFor(/id: 43\n/, 10_000), conn.text);
        assert.match(conn.text, /content-type: text\/event-stream/i);
        assert.match(conn.text, /retry: 2000\n\n/);
        assert.match(conn.text, /event: tick\nid: 42\ndata: \{"n":42,/);
        conn.destroy();
        await f.waitForLine(/^client left after event 42/, 10_000);
      } finally {
        await f.stop();
      }
    });

    test("cancellation: a client that leaves stops the report, a route past its timeout gets 503, a left feed stops", async () => {
      const f = await startFixture(runtime, "examples/cancellation/main.ts", { ADDR: "127.0.0.1:0", INTERVAL: "5000" });
      try {
        assert.deepEqual(JSON.parse((await http(f.port, "/search/10")).text), { results: [] });
        const late = await http(f.port, "/search/3000");
        assert.equal(late.status, 503);
        await f.waitForLine(/^search cancelled: TAKO_ERR_HANDLER_TIMEOUT$/, 5_000);
        const report = await RawConn.open(f.port);
        report.send("GET /report/10000 HTTP/1.1\r\nHost: t\r\n\r\n");
        await f.waitForLine(/^report started$/, 5_000);
        report.destroy();
        await f.waitForLine(/^report cancelled: TAKO_ERR_CLIENT_GONE$/, 5_000);
        const feed = await RawConn.open(f.port);
        feed.send("GET /feed HTTP/1.1\r\nHost: t\r\n\r\n");
        assert.ok(await feed.waitFor(/update 1\n/, 5_000), feed.text);
        const leftAt = Date.now();
        feed.destroy();
        await f.waitForLine(/^feed stopped$/, 3_000);
        assert.ok(Date.now() - leftAt < 2_000, "the feed stopped before its next update (5 s away)");
      } finally {
        await f.stop();
      }
    });

    test("h2c: the Router over HTTP/2 prior knowledge, HTTP/1.1 on the same port, GOAWAY drain", async () => {
      const f = await startFixture(runtime, "examples/h2c/main.ts", { ADDR: "127.0.0.1:0" });
      try {
        assert.deepEqual(JSON.parse((await h2(f.port, "/users/7")).text), { id: "7", httpVersion: "2.0" });
        assert.deepEqual(JSON.parse((await http(f.port, "/users/7")).text), { id: "7", httpVersion: "1.1" });
        const session = await h2Session(f.port);
        // The server has taken the connection (its PING answer came) before the drain starts: a
        // connection still in the kernel's backlog at SIGTERM is reset with the listener, never
        // sent a GOAWAY (the test once raced that on Bun and Deno).
        await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
        // An idle session: Node (node:http2), Bun and Deno (tako's codec, closing after its GOAWAY
        // is out) always deliver the GOAWAY.
        const ended = new Promise<number | "closed">((resolve) => {
          session.once("goaway", (code: number) => resolve(code));
          session.once("close", () => resolve("closed"));
        });
        f.child.kill("SIGTERM");
        const end = await ended;
        assert.equal(end, 0, "GOAWAY NO_ERROR on drain");
        session.destroy();
        await f.waitForLine(/^stopped: in-flight streams answered, GOAWAY sent$/);
      } finally {
        await f.stop();
      }
    });

    test("tls: each TlsCert form serves h2 and HTTP/1.1 with the TLS facts in req.conn", async () => {
      for (const mode of ["pem", "der", "sni", "reload"]) {
        const f = await startFixture(runtime, "examples/tls/main.ts", { ADDR: "127.0.0.1:0", MODE: mode });
        try {
          const caPath = fileURLToPath(new URL("../examples/demo/.dev-cert/ca.pem", import.meta.url));
          const out = JSON.parse(await curl(["--cacert", caPath, "--resolve", `localhost:${f.port}:127.0.0.1`, `https://localhost:${f.port}/`]));
          assert.equal(out.hello, "over TLS", mode);
          assert.equal(out.sni, "localhost", mode);
          assert.match(out.tls, /^TLSv1\.[23]$/, mode);
        } finally {
          await f.stop();
        }
      }
    });

    test("proxy-protocol: behind the example's haproxy.cfg, the handler sees the real client", async () => {
      const f = await startFixture(runtime, "examples/proxy-protocol/main.ts", { ADDR: "127.0.0.1:0" });
      const probe = createServer();
      const front = await new Promise<number>((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)));
      await new Promise((r) => probe.close(r));
      const haproxy = spawn("haproxy", ["-db", "-f", "examples/proxy-protocol/haproxy.cfg"], {
        env: { ...process.env, FRONT_PORT: String(front), BACKEND_PORT: String(f.port) },
        stdio: "ignore",
      });
      try {
        // HAProxy has no ready signal: poll (bounded) until it answers through to tako.
        let answer: { text: string; localPort: number } | null = null;
        for (let i = 0; i < 100 && answer === null; i++) {
          answer = await http(front, "/whoami", { headers: { "x-forwarded-for": "6.6.6.6" } }).catch(() => null);
          if (answer === null) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(answer !== null, "haproxy answered");
        const who = JSON.parse(answer.text);
        assert.equal(who.client, `127.0.0.1:${answer.localPort}`);
        assert.equal(who.forwarded, "for=127.0.0.1");
        assert.equal(who.xForwardedFor, null);
        assert.deepEqual(who.via, { version: 2, crc32cVerified: true });
        // Without the balancer there is no PROXY header: the connection is closed unanswered.
        assert.ok((await http(f.port, "/whoami").catch((e: Error) => e)) instanceof Error);
      } finally {
        haproxy.kill("SIGTERM");
        await f.stop();
      }
    });

    test("cluster: two workers behind the example's haproxy.cfg both answer with the real client address; SIGTERM stops them all", async () => {
      const free = async (): Promise<number> => {
        const probe = createServer();
        const port = await new Promise<number>((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as { port: number }).port)));
        await new Promise((r) => probe.close(r));
        return port;
      };
      const backend = await free();
      const front = await free();
      const f = await startFixture(runtime, "examples/cluster/main.ts", { ADDR: `127.0.0.1:${backend}`, WORKERS: "2" });
      const haproxy = spawn("haproxy", ["-db", "-f", "examples/cluster/haproxy.cfg"], {
        env: { ...process.env, FRONT_PORT: String(front), BACKEND_PORT: String(backend) },
        stdio: "ignore",
      });
      try {
        await f.waitForLine(/^worker 2 listening/, 30_000);
        await f.waitForLine(/^worker 1 listening/, 30_000);
        const workers = new Set<number>();
        for (let i = 0; i < 200 && workers.size < 2; i++) {
          const answer = await http(front, "/").catch(() => null);
          if (answer === null || answer.status !== 200) {
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const body = JSON.parse(answer.text) as { worker: number; client: string };
          assert.equal(body.client, `127.0.0.1:${answer.localPort}`, "the PROXY header's client");
          workers.add(body.worker);
        }
        assert.deepEqual([...workers].sort(), [1, 2]);
        f.child.kill("SIGTERM");
        assert.equal(await f.exited, 0);
      } finally {
        haproxy.kill("SIGTERM");
        await f.stop();
      }
    });

    test("unix-socket: served on a socket file with mode 0660, req.conn says unix, the file is gone after SIGTERM", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tako-example-"));
      const path = join(dir, "app.sock");
      const [cmd, args] = commandFor(runtime, fileURLToPath(new URL("../examples/unix-socket/main.ts", import.meta.url)));
      const child = spawn(cmd, args, { env: { ...process.env, SOCKET: path }, stdio: ["ignore", "pipe", "pipe"] });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      try {
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        const deadline = Date.now() + 30_000;
        while (!out.includes(`listening on unix:${path}`)) {
          assert.ok(Date.now() < deadline && child.exitCode === null, `example did not start: ${out}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(lstatSync(path).mode & 0o777, 0o660);
        assert.equal(await curl(["--unix-socket", path, "http://localhost/"]), "Hello over a Unix socket!");
        assert.deepEqual(JSON.parse(await curl(["--unix-socket", path, "http://localhost/whoami"])), { family: "unix", listener: path, peer: "" });
        child.kill("SIGTERM");
        assert.equal(await exited, 0);
        assert.match(out, /stopped\n$/);
        assert.throws(() => lstatSync(path), /ENOENT/);
      } finally {
        child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("websocket: 401 before the upgrade, a message reaches everyone in the room, SIGTERM closes 1001", { timeout: 60_000 }, async () => {
      const f = await startFixture(runtime, "examples/websocket/main.ts", { ADDR: "127.0.0.1:0" });
      try {
        const url = `ws://127.0.0.1:${f.port}/chat/lobby`;
        // The status, or the client's error if the connection failed before one (then the test
        // fails saying so, rather than waiting for an answer that will not come).
        const status = await new Promise<number | string>((resolve) => {
          const ws = new WebSocket(url);
          ws.on("error", (error) => resolve(`error: ${error.message}`));
          ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        });
        assert.equal(status, 401);
        const join = (): Promise<{ ws: WebSocket; seen: string[] }> =>
          new Promise((resolve, reject) => {
            const ws = new WebSocket(url, { headers: { authorization: "Bearer demo" } });
            const seen: string[] = [];
            ws.on("message", (d: Buffer) => seen.push(d.toString()));
            ws.once("open", () => resolve({ ws, seen }));
            ws.once("error", reject);
          });
        const a = await join();
        const b = await join();
        a.ws.send("hi all");
        for (let i = 0; i < 100 && !b.seen.includes("127.0.0.1: hi all"); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(b.seen.includes("127.0.0.1: hi all"), JSON.stringify(b.seen));
        assert.ok(a.seen.includes("127.0.0.1: hi all"), JSON.stringify(a.seen));
        const codes = [a, b].map(({ ws }) => new Promise<number>((resolve) => ws.once("close", resolve)));
        f.child.kill("SIGTERM");
        assert.deepEqual(await Promise.all(codes), [1001, 1001]);
        await f.waitForLine(/^stopped: every socket closed$/);
      } finally {
        await f.stop();
      }
    });

    test("otel-console: the server span (child of traceparent), the handler's child span, the access log, metrics on exit", async () => {
      const f = await startFixture(runtime, "examples/otel-console/main.ts", { ADDR: "127.0.0.1:0", METRIC_INTERVAL: "60000" });
      try {
        // Console output differs per runtime (quotes): the checks take either.
        const res = await http(f.port, "/orders/42", { headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "x-request-id": "ex-1" } });
        assert.deepEqual(JSON.parse(res.text), { order: "42", requestId: "ex-1" });
        assert.equal(res.headers["x-request-id"], "ex-1");
        await f.waitForLine(/name: ["']load order["']/);
        await f.waitForLine(/name: ["']GET \/orders\/\{id\}["']/);
        await f.waitForLine(/["']http\.route["']: ["']\/orders\/\{id\}["']/);
        await f.waitForLine(/spanId: ["']b7ad6b7169203331["']/); // the server span's parent (traceparent)
        await f.waitForLine(/^access 127\.0\.0\.1 "GET \/orders\/42" 200 [\d.]+ms id=ex-1$/);
        assert.equal((await http(f.port, "/fail")).status, 500);
        await f.waitForLine(/^access 127\.0\.0\.1 "GET \/fail" 500 /);
        f.child.kill("SIGTERM");
        await f.waitForLine(/name: ["']http\.server\.request\.duration["']/, 15_000);
        await f.waitForLine(/^stopped$/, 15_000);
      } finally {
        await f.stop();
      }
    });

    test("demo (npm start)", async () => {
      const f = await startFixture(runtime, "examples/demo/main.ts", { TAKO_ADDR: "127.0.0.1:0", TAKO_H2C_ADDR: "127.0.0.1:0", TAKO_TLS_ADDR: "127.0.0.1:0" });
      try {
        assert.equal((await http(f.port, "/")).text, "Hello, World!");
        assert.deepEqual(JSON.parse((await http(f.port, "/users/42")).text), { id: "42", name: "user 42" });
        const echo = await http(f.port, "/echo", { method: "POST", body: '{"hello":"tako"}' });
        assert.deepEqual(JSON.parse(echo.text), { hello: "tako" });
        assert.equal((await http(f.port, "/stream")).text, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
        const h2cPort = Number((await f.waitForLine(/^h2c \(HTTP\/2 prior knowledge\) on http:\/\/\S+:(\d+)$/))[1]);
        const viaH2 = await h2(h2cPort, "/users/42");
        assert.deepEqual(JSON.parse(viaH2.text), { id: "42", name: "user 42" });
        assert.equal((await h2(h2cPort, "/stream")).text, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
        const tlsPort = (await f.waitForLine(/^https \(h2 and http\/1\.1 by ALPN\) on https:\/\/\S+:(\d+)$/))[1]!;
        const caPath = fileURLToPath(new URL("../examples/demo/.dev-cert/ca.pem", import.meta.url));
        for (const version of ["--http2", "--http1.1"]) {
          const out = await curl(["--cacert", caPath, version, "-w", " %{http_version}", `https://127.0.0.1:${tlsPort}/users/42`]);
          assert.equal(out, `{"id":"42","name":"user 42"} ${version === "--http2" ? "2" : "1.1"}`);
        }
      } finally {
        await f.stop();
      }
    });
  });
}

// HTTP/3: Bun.serve's QUIC stack on Bun, the optional addon (a dev dependency here) on Node.js and Deno.
for (const runtime of ["node", "bun", "deno"] as const) {
  describe(`examples/h3 on ${runtime}`, () => {
    test("h3 (both): HTTPS answers with Alt-Svc; HTTP/3 on the same port number; SIGTERM stops both", async () => {
      const f = await startFixture(runtime, "examples/h3/main.ts", { ADDR: "127.0.0.1:0" });
      try {
        const { devCert } = await import("../examples/demo/dev-cert.ts");
        const head = await curl(["--cacert", devCert().ca, "--resolve", `localhost:${f.port}:127.0.0.1`, "-sI", `https://localhost:${f.port}/`]);
        assert.match(head, new RegExp(`^alt-svc: h3=":${f.port}"; ma=86400\\r$`, "mi"));
        const h3 = await h3One(f.port, { path: "/" });
        assert.ok(h3.ok, JSON.stringify(h3));
        assert.deepEqual(JSON.parse(h3.text), { hello: "tako", httpVersion: "3", alpn: "h3" });
        f.child.kill("SIGTERM");
        assert.equal(await f.exited, 0);
      } finally {
        await f.stop();
      }
    });
  });
}
