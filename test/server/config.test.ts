// ServerConfig: defaults, merging, and the validation messages a bad value gets at build().
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_SERVER_CONFIG, Server, TakoError } from "../../src/index.ts";

describe("ServerConfig", () => {
  test("defaults are tako's, documented in one table", () => {
    assert.deepEqual(
      { ...DEFAULT_SERVER_CONFIG, acceptBackoff: { ...DEFAULT_SERVER_CONFIG.acceptBackoff } },
      {
        drainTimeout: 30_000,
        shutdownDelay: 0,
        headerReadTimeout: 30_000,
        keepAlive: true,
        keepAliveTimeout: 5_000,
        maxConnections: null,
        bodyReadTimeout: 20_000,
        bodyMinRate: 500,
        acceptBackoff: { initial: 5, max: 1_000 },
        h2MaxConcurrentStreams: 100,
        h2MaxHeaderListSize: 16_384,
        h2MaxSendBufSize: 1_048_576,
        h2MaxPendingAcceptResetStreams: 50,
        h2KeepAliveInterval: null,
        h3MaxConcurrentBidiStreams: 100,
        h3MaxConcurrentUniStreams: 8,
        h3MaxIdleTimeout: 30_000,
        h3Congestion: "cubic",
        h3EnableDatagrams: false,
        h3UseRetry: false,
        h3GoawayGrace: 10_000,
        proxyReadTimeout: 10_000,
        tlsHandshakeTimeout: 10_000,
        handlerTimeout: null,
        maxEventLoopDelay: null,
        maxEventLoopUtilization: null,
      },
    );
  });

  test("config() merges partial objects over the defaults, later calls win", () => {
    const server = Server.builder().config({ drainTimeout: 5_000, maxConnections: 10 }).config({ maxConnections: 20 }).build();
    assert.equal(server.config.drainTimeout, 5_000);
    assert.equal(server.config.maxConnections, 20);
    assert.equal(server.config.headerReadTimeout, 30_000);
    assert.ok(Object.isFrozen(server.config));
  });

  test("null disables the optional limits", () => {
    const c = Server.builder().config({ headerReadTimeout: null, keepAliveTimeout: null, maxConnections: null, h2KeepAliveInterval: null }).build().config;
    assert.equal(c.headerReadTimeout, null);
  });

  const bad: [name: string, partial: Record<string, unknown>, message: RegExp][] = [
    ["negative duration", { drainTimeout: -1 }, /"drainTimeout" must be a duration in milliseconds, 0\.\.2147483647; got -1/],
    ["NaN duration", { drainTimeout: Number.NaN }, /"drainTimeout" must be .*; got NaN/],
    ["infinite duration", { keepAliveTimeout: Infinity }, /"keepAliveTimeout" must be a duration in milliseconds, 1\.\.2147483647, or null to disable; got Infinity/],
    ["zero header timeout", { headerReadTimeout: 0 }, /"headerReadTimeout" must be a duration in milliseconds, 1\.\./],
    ["string duration", { headerReadTimeout: "30s" }, /"headerReadTimeout" must be .*; got "30s"/],
    ["non-integer cap", { maxConnections: 1.5 }, /"maxConnections" must be an integer in 1\.\.2147483647, or null to disable; got 1\.5/],
    ["zero cap", { maxConnections: 0 }, /"maxConnections" must be an integer in 1\./],
    ["wrong type boolean", { keepAlive: "yes" }, /"keepAlive" must be true or false; got "yes"/],
    ["unknown key", { drainTimout: 1 }, /unknown server config field "drainTimout"; known fields: drainTimeout, /],
    ["h3 idle timeout zero", { h3MaxIdleTimeout: 0 }, /"h3MaxIdleTimeout" must be a duration in milliseconds, 1\.\.2147483647, or null to disable; got 0/],
    ["h3 uni streams under the three every client opens", { h3MaxConcurrentUniStreams: 2 }, /"h3MaxConcurrentUniStreams" must be an integer in 3\.\.4294967295; got 2/],
    ["h3 bidi streams zero", { h3MaxConcurrentBidiStreams: 0 }, /"h3MaxConcurrentBidiStreams" must be an integer in 1\.\.4294967295; got 0/],
    ["h3 congestion controller unknown", { h3Congestion: "vegas" }, /"h3Congestion" must be one of "cubic", "newreno", "bbr"; got "vegas"/],
    ["h3 retry not a boolean", { h3UseRetry: 1 }, /"h3UseRetry" must be true or false; got 1/],
    ["h3 goaway grace negative", { h3GoawayGrace: -5 }, /"h3GoawayGrace" must be a duration in milliseconds, 0\.\.2147483647; got -5/],
    ["h2 streams zero", { h2MaxConcurrentStreams: 0 }, /"h2MaxConcurrentStreams" must be an integer in 1\.\.4294967295; got 0/],
    ["backoff shape", { acceptBackoff: { initial: 10, max: 5 } }, /"acceptBackoff" must be \{ initial, max \} with 1 <= initial <= max milliseconds/],
    ["backoff extra key", { acceptBackoff: { initial: 5, max: 10, jitter: 1 } }, /unknown key "jitter"/],
    ["backoff not an object", { acceptBackoff: 5 }, /"acceptBackoff" must be an object \{ initial, max \}/],
    ["zero event loop delay", { maxEventLoopDelay: 0 }, /"maxEventLoopDelay" must be a duration in milliseconds, 1\.\.2147483647, or null to disable; got 0/],
    ["utilization over 1", { maxEventLoopUtilization: 1.5 }, /"maxEventLoopUtilization" must be a fraction in \(0, 1\], or null to disable; got 1\.5/],
    ["utilization zero", { maxEventLoopUtilization: 0 }, /"maxEventLoopUtilization" must be a fraction in \(0, 1\]/],
    ["duration over setTimeout's range", { tlsHandshakeTimeout: 2 ** 31 }, /"tlsHandshakeTimeout" must be a duration in milliseconds, 1\.\.2147483647/],
  ];
  for (const [name, partial, message] of bad) {
    test(`rejects ${name} at build(), naming the field`, () => {
      const builder = Server.builder().config(partial as never);
      assert.throws(
        () => builder.build(),
        (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_CONFIG" && message.test(e.message),
      );
    });
  }

  test("a non-object config is rejected", () => {
    assert.throws(
      () =>
        Server.builder()
          .config(null as never)
          .build(),
      /server config must be an object/,
    );
  });
});
