// The h2c suite: what only HTTP/2 cleartext has, probed with Node's http2 client and a raw-frame
// client (SETTINGS, limits, floods, drain). The Router's behaviour over h2c (routes, bodies,
// errors, streaming, curl --http2-prior-knowledge …) is in the contract suite (test/contract/).
// Two fixtures per runtime: one with the default config (an h2c-only port), one with small
// limits and HTTP/1.1 on the same port, which the drain test stops last.
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { after, before, describe, test } from "node:test";
import { h2, h2Session, remoteSettings } from "../_shared/h2-client.ts";
import { http } from "../_shared/http-client.ts";
import { startFixture, type Fixture, type Runtime } from "../_shared/spawn.ts";
import { DENO_FIXED, limitsSuite, LIMITS_CONFIG } from "./_limits.ts";

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

  describe(`h2c with the default config (${runtime})`, () => {
    test("default SETTINGS: 100 streams, 16 KiB header list (Deno.serve: its fixed 200 streams)", async () => {
      const s = await remoteSettings(session);
      assert.equal(s.maxConcurrentStreams, runtime === "deno" ? DENO_FIXED.maxConcurrentStreams : 100);
      assert.equal(s.maxHeaderListSize, runtime === "deno" ? DENO_FIXED.maxHeaderListSize : 16 * 1024);
    });

    test("an h2c-only port does not answer HTTP/1.1 as if it were HTTP/2", async () => {
      const res = await http(port, "/").catch((e: Error) => e);
      if (runtime === "deno") {
        // Deno.serve answers an HTTP/1.1 request on an h2c-only port with 505.
        assert.ok(!(res instanceof Error), `Deno.serve answers: ${res instanceof Error ? res.message : ""}`);
        assert.equal(res.status, 505);
      } else {
        // Node and Bun answer in HTTP/2 (SETTINGS, GOAWAY): not a response an HTTP/1.1 client can parse.
        assert.ok(res instanceof Error, `HTTP/1.1 on an h2c-only port must fail; got ${res instanceof Error ? "" : res.status}`);
        assert.equal((res as NodeJS.ErrnoException).code, "HPE_INVALID_CONSTANT", res.message);
      }
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
