// A real HAProxy (Debian package `haproxy`, installed by .ci/run) in front of tako on loopback
// ports, on every runtime: send-proxy (v1), send-proxy-v2 with CRC32C and a unique id,
// send-proxy-v2-ssl-cn after HAProxy terminated TLS with a client certificate, health checks
// (the LOCAL command), and HAProxy speaking h2c to tako (`proto h2`). HAProxy runs in the
// foreground as a child process and is stopped by its PID.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { testCerts } from "./../_shared/certs.ts";
import { RUNTIMES, startFixture, type Fixture } from "../_shared/spawn.ts";

/** Free loopback ports (bound, then released for HAProxy to bind). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const s = createServer();
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** GET `path` over a fresh connection (optionally TLS with a client certificate); returns the body and the client's port. */
function get(port: number, path: string, tls?: { client: boolean }): Promise<{ body: string; localPort: number; status: number }> {
  const certs = testCerts();
  return new Promise((resolve, reject) => {
    const onConnected = (s: Socket): void => {
      let text = "";
      s.setEncoding("utf8");
      s.on("data", (c: string) => (text += c));
      s.on("error", reject);
      s.on("close", () => {
        const m = /^HTTP\/1\.[01] (\d{3})[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(text);
        if (m === null) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
        resolve({ status: Number(m[1]), body: m[2]!, localPort });
      });
      s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n`);
    };
    let localPort = 0;
    if (tls === undefined) {
      const s = new Socket();
      s.connect(port, "127.0.0.1", () => {
        localPort = s.localPort!;
        onConnected(s);
      });
      s.on("error", reject);
    } else {
      const s = tlsConnect({
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: certs.read(certs.ca.cert),
        cert: tls.client ? certs.read(certs.client.cert) : undefined,
        key: tls.client ? certs.read(certs.client.key) : undefined,
      });
      s.once("secureConnect", () => {
        localPort = s.localPort!;
        onConnected(s);
      });
      s.on("error", reject);
    }
  });
}

for (const runtime of RUNTIMES) {
  describe(`HAProxy in front of tako (${runtime})`, () => {
    const certs = testCerts();
    let http: Fixture;
    let h2c: Fixture | null = null;
    let haproxy: ChildProcess;
    let ports: { v1: number; v2: number; ssl: number; h2: number };

    before(async () => {
      http = await startFixture(runtime, "test/proxy/_main.ts", { TAKO_TRANSPORT: "http" });
      h2c = await startFixture(runtime, "test/proxy/_main.ts", { TAKO_TRANSPORT: "h2c" });
      const [v1, v2, ssl, h2] = (await freePorts(4)) as [number, number, number, number];
      ports = { v1, v2, ssl, h2 };
      const pem = `${certs.dir}haproxy-localhost.pem`;
      writeFileSync(pem, readFileSync(certs.localhost.cert, "utf8") + readFileSync(certs.localhost.key, "utf8"));
      const cfg = `${certs.dir}haproxy-${runtime}.cfg`;
      writeFileSync(
        cfg,
        `global
  maxconn 256
defaults
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend v1
  mode tcp
  bind 127.0.0.1:${v1}
  default_backend v1
backend v1
  mode tcp
  server tako 127.0.0.1:${http.port} send-proxy
frontend v2
  mode http
  bind 127.0.0.1:${v2}
  unique-id-format req-%{+X}o%ci-%cp
  default_backend v2
backend v2
  mode http
  option httpchk GET /proxy/check
  server tako 127.0.0.1:${http.port} send-proxy-v2 proxy-v2-options crc32c,unique-id check inter 300 check-send-proxy
frontend ssl
  mode tcp
  bind 127.0.0.1:${ssl} ssl crt ${pem} ca-file ${certs.ca.cert} verify optional
  default_backend ssl
backend ssl
  mode tcp
  server tako 127.0.0.1:${http.port} send-proxy-v2-ssl-cn proxy-v2-options ssl,ssl-cipher,cert-sig,cert-key
${
  h2c === null
    ? ""
    : `frontend h2
  mode http
  bind 127.0.0.1:${h2}
  default_backend h2
backend h2
  mode http
  server tako 127.0.0.1:${h2c.port} proto h2 send-proxy-v2
`
}`,
      );
      haproxy = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      haproxy.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      // Ready once every frontend accepts.
      const deadline = Date.now() + 10_000;
      for (const port of [v1, v2, ssl]) {
        for (;;) {
          const ok = await new Promise<boolean>((resolve) => {
            const s = new Socket();
            s.once("connect", () => (s.destroy(), resolve(true)));
            s.once("error", () => resolve(false));
            s.connect(port, "127.0.0.1");
          });
          if (ok) break;
          if (haproxy.exitCode !== null || Date.now() > deadline) throw new Error(`haproxy did not start: ${err}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });

    after(async () => {
      if (haproxy !== undefined && haproxy.exitCode === null) {
        haproxy.kill("SIGTERM");
        await new Promise((r) => haproxy.once("exit", r));
      }
      assert.equal(http?.child.exitCode, null, `${runtime} fixture died; stderr:\n${http?.stderr()}`);
      await http?.stop();
      await h2c?.stop();
    });

    test("send-proxy (v1): the handler sees the real client, not HAProxy", async () => {
      const r = await get(ports.v1, "/proxy/seen");
      const seen = JSON.parse(r.body);
      assert.equal(seen.proxy.version, 1);
      assert.equal(seen.remoteAddress, "127.0.0.1");
      assert.equal(seen.remotePort, r.localPort, "the client's own port, from the header");
      assert.equal(seen.proxy.destinationPort, ports.v1);
      assert.equal(seen.xForwardedFor, null, "the client's X-Forwarded-For is dropped");
      assert.equal(seen.forwarded, "for=127.0.0.1");
    });

    test("send-proxy-v2 with CRC32C and unique id", async () => {
      const r = await get(ports.v2, "/proxy/seen");
      const seen = JSON.parse(r.body);
      assert.equal(seen.proxy.version, 2);
      assert.equal(seen.proxy.command, "PROXY");
      assert.equal(seen.remotePort, r.localPort);
      assert.equal(seen.proxy.crc32cVerified, true);
      // unique-id-format "req-%{+X}o%ci-%cp": the client's address and port in hex.
      assert.equal(seen.proxy.uniqueIdText, `req-7F000001-${r.localPort.toString(16).toUpperCase()}`);
    });

    test("send-proxy-v2-ssl-cn: TLS terminated by HAProxy, the client certificate's CN and TLS facts in TLVs", async () => {
      const r = await get(ports.ssl, "/proxy/seen", { client: true });
      const seen = JSON.parse(r.body);
      assert.equal(seen.remotePort, r.localPort);
      assert.equal(seen.proxy.ssl.cn, "client one");
      assert.match(seen.proxy.ssl.version, /^TLSv1\.[23]$/);
      assert.ok(seen.proxy.ssl.cipher.length > 0);
      assert.equal(seen.proxy.ssl.verify, 0, "HAProxy verified the client certificate");
      assert.ok((seen.proxy.ssl.client & 0x01) !== 0, "PP2_CLIENT_SSL");
      assert.ok(seen.proxy.ssl.sigAlg !== null && seen.proxy.ssl.keyAlg !== null);
      const anonymous = JSON.parse((await get(ports.ssl, "/proxy/seen", { client: false })).body);
      assert.equal(anonymous.proxy.ssl.cn, null);
    });

    test("health checks arrive with the LOCAL command and are answered", async () => {
      const deadline = Date.now() + 5000;
      let checks = { command: null as string | null, count: 0 };
      while (Date.now() < deadline) {
        checks = JSON.parse((await get(ports.v1, "/proxy/checks")).body);
        if (checks.count >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(checks.count >= 2, `HAProxy's checks reached tako ${checks.count} times`);
      assert.equal(checks.command, "LOCAL");
    });

    test("HAProxy speaking h2c to tako (proto h2) with send-proxy-v2", async () => {
      const r = await get(ports.h2, "/proxy/seen");
      const seen = JSON.parse(r.body);
      assert.equal(seen.httpVersion, "2.0");
      assert.equal(seen.remotePort, r.localPort);
      assert.equal(seen.proxy.version, 2);
    });
  });
}
