// WebSocket routes without a socket: options checked at registration (errors name the field),
// and the handshake answers a route gives before any upgrade (through router.fetch, which
// cannot upgrade: an accepted handshake answers 426 there).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Router, TakoError, WS_DEFAULTS, type WsOptions } from "../../src/index.ts";
import { resolveWsOptions } from "../../src/core/websocket/index.ts";

const handshake = (extra: Record<string, string> = {}): Record<string, string> => ({
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  ...extra,
});

describe("WebSocket options", () => {
  test("defaults", () => {
    const o = resolveWsOptions();
    assert.equal(o.maxPayload, 1024 * 1024);
    assert.equal(o.idleTimeout, WS_DEFAULTS.idleTimeout);
    assert.equal(o.pongTimeout, WS_DEFAULTS.pongTimeout);
    assert.deepEqual(o.protocols, []);
    assert.equal(o.allowedOrigins, null);
    assert.equal(o.deflateThreshold, null, "permessage-deflate is off by default");
    assert.equal(resolveWsOptions({ perMessageDeflate: true }).deflateThreshold, 1024);
    assert.equal(resolveWsOptions({ idleTimeout: null }).idleTimeout, null);
  });

  const bad: [field: string, options: unknown][] = [
    ["maxPayload", { maxPayload: 0 }],
    ["maxPayload", { maxPayload: -1 }],
    ["maxPayload", { maxPayload: 1.5 }],
    ["maxPayload", { maxPayload: "1mb" }],
    ["idleTimeout", { idleTimeout: -5 }],
    ["idleTimeout", { idleTimeout: Number.NaN }],
    ["pongTimeout", { pongTimeout: 0 }],
    ["protocols", { protocols: "chat" }],
    ["protocols", { protocols: ["two words"] }],
    ["allowedOrigins", { allowedOrigins: "https://a.example" }],
    ["allowedOrigins", { allowedOrigins: ["a.example"] }],
    ["perMessageDeflate", { perMessageDeflate: "yes" }],
    ["perMessageDeflate.threshold", { perMessageDeflate: { threshold: -1 } }],
    ["backpressureLimit", { backpressureLimit: 0 }],
    ['"maxPayLoad"', { maxPayLoad: 10 }],
  ];
  for (const [field, options] of bad) {
    test(`router.ws refuses ${JSON.stringify(options)} naming ${field}`, () => {
      assert.throws(
        () => new Router().ws("/ws", {}, options as WsOptions),
        (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_CONFIG" && e.message.includes(field),
      );
    });
  }

  test("handlers are checked too", () => {
    assert.throws(() => new Router().ws("/ws", { opne: () => {} } as never), /unknown WebSocket handler "opne"/);
    assert.throws(() => new Router().ws("/ws", { open: "x" } as never), /handler open must be a function/);
  });

  test("handler types: params are typed from the pattern, data is a string or bytes", () => {
    // Checked by `tsc` (npm run typecheck): a wrong param name does not compile.
    new Router().ws("/rooms/{room}/{user}", {
      message(ws, data) {
        const room: string = ws.req.params.room;
        const user: string = ws.req.params.user;
        // @ts-expect-error: no such param in the pattern
        void ws.req.params.nope;
        const size: number = typeof data === "string" ? data.length : data.byteLength;
        void [room, user, size];
      },
    });
  });

  test("a WebSocket route is a GET route: it conflicts with another GET at the same path", () => {
    const router = new Router();
    router.get("/x", () => "x");
    assert.throws(
      () => router.ws("/x", {}),
      (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_ROUTE_CONFLICT",
    );
  });
});

describe("WebSocket handshake answers (in process)", () => {
  const router = new Router();
  router.ws("/ws", {}, { allowedOrigins: ["https://good.example"] });
  router.ws("/private", {}).middleware((req, next) => (req.header("authorization") === null ? new Response("no", { status: 401 }) : next()));
  const ask = (path: string, headers: Record<string, string>): Promise<Response> => router.fetch(new Request(`http://t${path}`, { headers }));

  test("no Upgrade: 426 with Upgrade: websocket", async () => {
    const res = await ask("/ws", {});
    assert.equal(res.status, 426);
    assert.equal(res.headers.get("upgrade"), "websocket");
  });
  test("another version: 426 naming version 13 (RFC 6455 §4.4)", async () => {
    const res = await ask("/ws", handshake({ "sec-websocket-version": "8" }));
    assert.equal(res.status, 426);
    assert.equal(res.headers.get("sec-websocket-version"), "13");
  });
  test("a malformed key: 400", async () => {
    assert.equal((await ask("/ws", handshake({ "sec-websocket-key": "short" }))).status, 400);
  });
  test("a foreign origin: 403; the allowed one passes to the (in-process: 426) upgrade", async () => {
    assert.equal((await ask("/ws", handshake({ origin: "https://evil.example" }))).status, 403);
    assert.equal((await ask("/ws", handshake({ origin: "https://GOOD.example" }))).status, 426);
  });
  test("route middleware answers before the handshake is even looked at", async () => {
    assert.equal((await ask("/private", {})).status, 401);
  });
});
