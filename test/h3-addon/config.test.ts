// The h3* fields on the wire with the addon (Node.js and Deno), the fields and TLS material it
// cannot honour (refused, naming field and runtime), and the error when the addon is missing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveConfig } from "../../src/core/config.ts";
import { ClientAuth, Router, Server, TlsCert } from "../../src/index.ts";
import { serveH3WithAddon } from "../../src/adapters/node/h3.ts";
import { testCerts } from "../_shared/certs.ts";
import { startFixture, useFixture, type Runtime } from "../_shared/spawn.ts";
import { gtls } from "./_client.ts";

const certs = testCerts();
const tls = TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key);
const set = { h3MaxConcurrentBidiStreams: 7, h3MaxIdleTimeout: 5_000, h3UseRetry: true, h3EnableDatagrams: true, h3Congestion: "cubic", maxConnections: 50 };

for (const runtime of ["node", "deno"] as Runtime[]) {
  describe(`h3* fields with the addon on ${runtime}`, () => {
    const fx = useFixture(runtime, "test/h3-addon/_server.ts", { TAKO_CONFIG: JSON.stringify(set) });

    test("bidi streams, idle timeout, datagrams and Retry reach the wire", async () => {
      const r = await gtls(fx.port, "/");
      assert.equal(r.status, 200, r.log.slice(-2000));
      assert.equal(r.params.initial_max_streams_bidi, "7");
      assert.equal(r.params.max_idle_timeout, "5000");
      assert.ok(Number(r.params.max_datagram_frame_size) > 0, "datagrams advertised");
      assert.equal(r.retried, true, "the first Initial was answered with a Retry");
    });

    for (const [config, field] of [
      [{ h3Congestion: "bbr" }, 'h3Congestion "bbr"'],
      [{ h3MaxConcurrentUniStreams: 8 }, "h3MaxConcurrentUniStreams"],
    ] as const) {
      test(`${field} set explicitly: spawnH3 fails naming the field and the runtime`, async () => {
        await assert.rejects(startFixture(runtime, "test/h3-addon/_server.ts", { TAKO_CONFIG: JSON.stringify(config) }), (error: Error) => {
          assert.match(error.message, /TAKO_ERR_UNSUPPORTED/);
          assert.ok(error.message.includes(`${field} on ${runtime === "node" ? "Node.js" : "Deno"}`), error.message);
          return true;
        });
      });
    }
  });
}

describe("the addon engine refuses what it cannot serve (in process, Node.js)", () => {
  const router = new Router();
  router.get("/", () => "x");
  const spawn = (cert: TlsCert): Promise<unknown> => Server.builder().tls(cert).build().spawnH3("127.0.0.1:0", router);

  test("an SNI resolver", async () => {
    await assert.rejects(spawn(TlsCert.resolver(() => tls)), { code: "TAKO_ERR_UNSUPPORTED", message: /TlsCert\.resolver\(\) on Node\.js: .*one certificate per server/ });
  });

  test("client certificates", async () => {
    await assert.rejects(spawn(tls.withClientAuth(ClientAuth.required(certs.read(certs.ca.cert)))), { code: "TAKO_ERR_UNSUPPORTED", message: /withClientAuth\(\) on Node\.js/ });
  });

  test("the addon missing: the error says what to npm install", async () => {
    const spec = { router, config: resolveConfig(), explicit: new Set<never>(), proxy: { mode: "off", onBadCrc: "reject" } as const, host: "127.0.0.1", port: 0, tls };
    await assert.rejects(serveH3WithAddon(spec, "Node.js", "@currentspace/http3-not-installed"), (error: Error & { code?: string }) => {
      assert.equal(error.code, "TAKO_ERR_UNSUPPORTED");
      assert.match(error.message, /HTTP\/3 on Node\.js needs the optional peer dependency @currentspace\/http3-not-installed/);
      assert.match(error.message, /npm install @currentspace\/http3-not-installed@0\.9\.0/);
      return true;
    });
  });
});

describe("maxConnections with the addon (Node.js): connections over the cap wait", () => {
  const fx = useFixture("node", "test/h3-addon/_server.ts", { TAKO_CONFIG: JSON.stringify({ maxConnections: 1 }) });

  test("a second connection gets no answer while the first is open, then is served (the addon drops its Initials; the client retransmits)", async () => {
    let firstEnded = 0;
    const first = gtls(fx.port, "/slow/1500").then((r) => {
      firstEnded = Date.now();
      return r;
    });
    await fx.f.waitForLine(/^SLOW 1500$/);
    const second = await gtls(fx.port, "/", { timeoutMs: 12_000 });
    const secondEnded = Date.now();
    assert.equal((await first).status, 200);
    assert.equal(second.status, 200, second.log.slice(-2000));
    assert.ok(firstEnded > 0 && secondEnded >= firstEnded, "the second was served only after the first connection closed");
  });
});
