// Observability without sockets: the lifecycle kernel's connection and drain events (fake
// engine), what turns request tracing on and off (nothing is traced without a subscriber), and
// requestId() through router.fetch.
import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import { describe, test } from "node:test";
import { accessLog, CHANNELS, FetchRequest, isValidRequestId, requestId, Router } from "../../src/index.ts";
import { requestStart } from "../../src/adapters/shared/diagnostics.ts";
import { Lifecycle } from "../../src/adapters/shared/lifecycle.ts";
import { instrument } from "../../src/otel/index.ts";
import { FakeTransport } from "../adapters/_fake-engine.ts";

/** Records every message on `names` while `run` runs. */
function recording(names: string[], run: () => void): [string, Record<string, unknown>][] {
  const seen: [string, Record<string, unknown>][] = [];
  const subs = names.map((name) => [name, (m: unknown) => seen.push([name, m as Record<string, unknown>])] as const);
  for (const [name, fn] of subs) dc.subscribe(name, fn);
  try {
    run();
  } finally {
    for (const [name, fn] of subs) dc.unsubscribe(name, fn);
  }
  return seen;
}

describe("lifecycle kernel events", () => {
  test("open, close, refused (cap), drain start and end, from the one kernel", () => {
    const names = [CHANNELS.connectionOpen, CHANNELS.connectionClose, CHANNELS.connectionRefused, CHANNELS.drainStart, CHANNELS.drainEnd];
    const t = new FakeTransport();
    let a: ReturnType<FakeTransport["connect"]> = null;
    const seen = recording(names, () => {
      t.lifecycle.start({ ...hooksOf(t), peer: (c) => ({ remoteAddress: `10.0.0.${(c as { id: number }).id}`, remotePort: 1000 }) }, 1);
      a = t.connect();
      assert.equal(t.connect(), null, "over the cap");
      t.lifecycle.drain();
      t.hangUp(a!);
    });
    assert.deepEqual(
      seen.map(([name, m]) => [name, m.reason ?? m.connections, m.remoteAddress ?? m.forced]),
      [
        [CHANNELS.connectionOpen, "accepted", "10.0.0.0"],
        [CHANNELS.connectionRefused, "cap", "10.0.0.1"],
        [CHANNELS.drainStart, 1, false],
        [CHANNELS.connectionClose, "closed", "10.0.0.0"],
        [CHANNELS.drainEnd, 0, false],
      ],
    );
    assert.equal(seen[0]![1].handle, a, "the handle is the engine's connection object");
    assert.equal(seen[3]![1].handle, a);
  });

  test("a force-close without a drain: drain start and end say forced", () => {
    const t = new FakeTransport();
    const seen = recording([CHANNELS.drainStart, CHANNELS.drainEnd], () => {
      t.lifecycle.start(hooksOf(t));
      t.connect();
      t.lifecycle.forceClose();
    });
    assert.deepEqual(
      seen.map(([name, m]) => [name, m.forced]),
      [
        [CHANNELS.drainStart, true],
        [CHANNELS.drainEnd, true],
      ],
    );
  });

  test("nothing is published (or asked of the engine) without subscribers", () => {
    let asked = 0;
    const lifecycle = new Lifecycle<object>();
    lifecycle.start({ stopAccepting: () => lifecycle.listenerClosed(), drainConnections() {}, destroyConnections() {}, peer: () => (asked++, null) }, 1);
    const c = {};
    lifecycle.admit(c);
    lifecycle.admit({});
    lifecycle.release(c);
    lifecycle.drain();
    assert.equal(asked, 0);
  });
});

/** The FakeTransport's hooks as a plain object (so a test can add `peer`). */
function hooksOf(t: FakeTransport) {
  return {
    stopAccepting: () => t.stopAccepting(),
    drainConnections: () => t.drainConnections(),
    destroyConnections: () => t.destroyConnections(),
    released: () => t.released(),
  };
}

describe("request tracing switch", () => {
  test("off without subscribers; accessLog() and instrument() turn it on, and their stop functions off again", () => {
    assert.equal(requestStart.hasSubscribers, false);
    const stopLog = accessLog(() => {});
    assert.equal(requestStart.hasSubscribers, true);
    stopLog();
    stopLog();
    assert.equal(requestStart.hasSubscribers, false);
    const stopOtel = instrument();
    assert.equal(requestStart.hasSubscribers, true);
    stopOtel();
    assert.equal(requestStart.hasSubscribers, false);
  });
});

describe("requestId()", () => {
  const router = new Router();
  router.middleware(requestId());
  router.get("/", (req) => ({ id: req.id }));
  const custom = new Router();
  custom.middleware(requestId({ header: "X-Trace-Id", trustIncoming: false, generate: () => "gen-1" }));
  custom.get("/", (req) => req.id);
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  test("generates a UUID when none comes in; the response and the handler see the same id", async () => {
    const res = await router.fetch(new Request("http://x/"));
    const id = res.headers.get("x-request-id")!;
    assert.match(id, UUID);
    assert.deepEqual(await res.json(), { id });
  });

  test("keeps a valid incoming id, replaces an invalid one", async () => {
    const kept = await router.fetch(new Request("http://x/", { headers: { "x-request-id": "abc-DEF_1.2:3+4=5@6/7" } }));
    assert.equal(kept.headers.get("x-request-id"), "abc-DEF_1.2:3+4=5@6/7");
    for (const bad of ["", "a b", "x".repeat(129), "a\tb", "é"]) {
      assert.equal(isValidRequestId(bad), false, JSON.stringify(bad));
      const res = await router.fetch(new Request("http://x/", { headers: { "x-request-id": bad } }));
      assert.match(res.headers.get("x-request-id")!, UUID, JSON.stringify(bad));
    }
    assert.equal(isValidRequestId("x".repeat(128)), true);
  });

  test("error and miss responses carry it too", async () => {
    const res = await router.fetch(new Request("http://x/nowhere", { headers: { "x-request-id": "r-404" } }));
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("x-request-id"), "r-404");
  });

  test("header, trustIncoming: false and generate options", async () => {
    const res = await custom.fetch(new Request("http://x/", { headers: { "x-trace-id": "client-chosen" } }));
    assert.equal(res.headers.get("x-trace-id"), "gen-1");
    assert.equal(await res.text(), "gen-1");
  });

  test("a redirect's immutable headers: copied into a new response", async () => {
    const r = new Router();
    r.middleware(requestId());
    r.get("/", () => Response.redirect("http://x/elsewhere", 302));
    const res = await r.fetch(new Request("http://x/", { headers: { "x-request-id": "r-302" } }));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "http://x/elsewhere");
    assert.equal(res.headers.get("x-request-id"), "r-302");
  });
});

describe("router.routeOf (the route a traced request reports)", () => {
  const router = new Router();
  router.get("/users/{id}", () => "u");
  const nested = new Router();
  nested.get("/items/{*rest}", () => "i");
  router.nest("/api", nested);
  const req = (method: string, url: string) => new FetchRequest(new Request(url, { method }));

  test("the pattern with its prefix; HEAD falls back to GET; a miss or a malformed path is null", () => {
    assert.equal(router.routeOf(req("GET", "http://x/users/7?q=1")), "/users/{id}");
    assert.equal(router.routeOf(req("HEAD", "http://x/users/7")), "/users/{id}");
    assert.equal(router.routeOf(req("GET", "http://x/api/items/a/b")), "/api/items/{*rest}");
    assert.equal(router.routeOf(req("POST", "http://x/users/7")), null);
    assert.equal(router.routeOf(req("GET", "http://x/nowhere")), null);
    assert.equal(router.routeOf(req("GET", "http://x/users/%E0%A4%A")), null);
  });
});
