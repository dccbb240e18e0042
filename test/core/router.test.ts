// The router contract, in process through router.fetch: no sockets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HttpError, Method, Router, TakoError } from "../../src/index.ts";

const get = <S>(router: Router<S>, path: string, init?: RequestInit): Promise<Response> => router.fetch(new Request(`http://test${path}`, init));

function table(): Router<unknown> {
  const r = new Router<unknown>();
  r.get("/", () => "root");
  r.get("/users", () => "users");
  r.get("/users/me", () => "me");
  r.get("/users/{id}", (req) => `user ${req.params.id}`);
  r.get("/users/{id}/posts/{postId}", (req) => `post ${req.params.id}/${req.params.postId}`);
  r.get("/files/{*rest}", (req) => `file ${req.params.rest}`);
  r.get("/a/b/c", () => "static abc");
  r.get("/a/{x}/d", (req) => `param ${req.params.x}`);
  r.get("/trailing/", () => "with slash");
  r.post("/users", () => "created");
  r.route([Method.PUT, Method.PATCH], "/things/{id}", (req) => `${req.method} ${req.params.id}`);
  r.any("/any", (req) => `any ${req.method}`);
  return r;
}

describe("router contract", () => {
  const router = table();
  const cases: [method: string, path: string, status: number, body: string][] = [
    ["GET", "/", 200, "root"],
    ["GET", "/users", 200, "users"],
    ["GET", "/users/me", 200, "me"],
    ["GET", "/users/42", 200, "user 42"],
    ["GET", "/users/42/posts/7", 200, "post 42/7"],
    ["GET", "/files/a/b/c.txt", 200, "file a/b/c.txt"],
    ["GET", "/files/", 200, "file "],
    ["GET", "/files", 404, "Not Found"],
    ["GET", "/a/b/c", 200, "static abc"],
    ["GET", "/a/b/d", 200, "param b"],
    ["GET", "/trailing/", 200, "with slash"],
    ["GET", "/trailing", 404, "Not Found"],
    ["GET", "/users/", 404, "Not Found"],
    ["GET", "/users/caf%C3%A9", 200, "user café"],
    ["GET", "/users/a%2Fb", 200, "user a/b"],
    ["GET", "/users/%E0%A4%A", 400, "malformed percent-encoding in request path"],
    ["GET", "/nope/%zz", 400, "malformed percent-encoding in request path"],
    ["GET", "/nope", 404, "Not Found"],
    ["POST", "/users", 200, "created"],
    ["PUT", "/things/9", 200, "PUT 9"],
    ["PATCH", "/things/9", 200, "PATCH 9"],
    ["DELETE", "/any", 200, "any DELETE"],
    ["POST", "/any", 200, "any POST"],
    ["GET", "/users/me?x=1", 200, "me"],
  ];
  for (const [method, path, status, body] of cases) {
    test(`${method} ${path} → ${status}`, async () => {
      const res = await get(router, path, { method });
      assert.equal(res.status, status);
      assert.equal(await res.text(), body);
    });
  }

  test("405 lists the path's methods in Allow, with HEAD for GET and OPTIONS", async () => {
    const res = await get(router, "/users", { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD, POST, OPTIONS");
  });

  test("HEAD is answered by the GET handler without a body", async () => {
    const res = await get(router, "/users/5", { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await res.text(), "");
  });

  test("an explicit HEAD route wins over GET", async () => {
    const r = new Router();
    r.get("/x", () => "get");
    r.head("/x", () => new Response(null, { headers: { "x-head": "1" } }));
    const res = await get(r, "/x", { method: "HEAD" });
    assert.equal(res.headers.get("x-head"), "1");
  });

  test("OPTIONS without a route answers 204 with Allow", async () => {
    const res = await get(router, "/things/1", { method: "OPTIONS" });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("allow"), "PUT, PATCH, OPTIONS");
  });

  test("OPTIONS on an unknown path is 404", async () => {
    assert.equal((await get(router, "/none", { method: "OPTIONS" })).status, 404);
  });

  test("a method the router does not implement is 501", async () => {
    const res = await get(router, "/users", { method: "PROPFIND" });
    assert.equal(res.status, 501);
  });

  test("a method-specific route wins over any()", async () => {
    const r = new Router();
    r.any("/x", () => "any");
    r.get("/x", () => "get");
    assert.equal(await (await get(r, "/x")).text(), "get");
    assert.equal(await (await get(r, "/x", { method: "POST" })).text(), "any");
  });

  test("priority static > param > catch-all does not depend on registration order", async () => {
    const r = new Router();
    r.get("/p/{*rest}", () => "catch-all");
    r.get("/p/{id}", () => "param");
    r.get("/p/fixed", () => "static");
    assert.equal(await (await get(r, "/p/fixed")).text(), "static");
    assert.equal(await (await get(r, "/p/other")).text(), "param");
    assert.equal(await (await get(r, "/p/other/deeper")).text(), "catch-all");
  });

  test("a level with many static children (indexed by first character) finds each and nothing else", () => {
    const r = new Router();
    const labels = ["alpha", "alps", "alto", "beta", "bets", "b", "c", "cc", "delta", "deltas", "echo", "é", "日本"];
    for (const label of labels) {
      r.get(`/${label}`, () => label);
      r.get(`/${label}/x`, () => `${label}/x`);
    }
    r.get("/{other}/x", () => "param");
    r.get("/a//b", () => "empty segment");
    r.get("//{p}", () => "empty first segment");
    for (const label of labels) {
      assert.deepEqual(r.match("GET", `/${label}/x`), { pattern: `/${label}/x`, params: {} }, label);
      assert.deepEqual(r.match("GET", `/${label}`), { pattern: `/${label}`, params: {} }, label);
    }
    for (const miss of ["alph", "alphas", "bet", "d", "deltaz", "e", "日", "ALPHA"]) {
      assert.equal(r.match("GET", `/${miss}`), null, miss);
      assert.deepEqual(r.match("GET", `/${miss}/x`), { pattern: "/{other}/x", params: { other: miss } }, miss);
    }
    assert.deepEqual(r.match("GET", "/a//b"), { pattern: "/a//b", params: {} });
    assert.deepEqual(r.match("GET", "//z"), { pattern: "//{p}", params: { p: "z" } }, "an empty label among bucketed ones");
    assert.deepEqual(r.match("GET", "/%62eta/x"), { pattern: "/beta/x", params: {} }, "percent-encoded static segment");
  });

  test("a method missing on the static node falls back to a param route with it", async () => {
    const r = new Router();
    r.get("/users/me", () => "me");
    r.post("/users/{id}", (req) => `post ${req.params.id}`);
    assert.equal(await (await get(r, "/users/me", { method: "POST" })).text(), "post me");
  });

  test("the fallback replaces the 404", async () => {
    const r = new Router();
    r.fallback((req) => new Response(`custom ${req.path}`, { status: 404 }));
    const res = await get(r, "/missing");
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "custom /missing");
  });

  test("query is parsed lazily and raw query is kept", async () => {
    const r = new Router();
    r.get("/q", (req) => ({ raw: req.rawQuery, a: req.query.getAll("a"), b: req.query.get("b") }));
    const res = await get(r, "/q?a=1&a=2&b=x%20y");
    assert.deepEqual(await res.json(), { raw: "a=1&a=2&b=x%20y", a: ["1", "2"], b: "x y" });
  });

  test("headers are case-insensitive", async () => {
    const r = new Router();
    r.get("/h", (req) => `${req.header("X-Thing")} ${req.headers.get("x-thing")}`);
    assert.equal(await (await get(r, "/h", { headers: { "x-THING": "v" } })).text(), "v v");
  });

  test("match() reports pattern and params without dispatching", () => {
    assert.deepEqual(router.match("GET", "/users/7/posts/8"), { pattern: "/users/{id}/posts/{postId}", params: { id: "7", postId: "8" } });
    assert.equal(router.match("GET", "/nothing"), null);
    assert.deepEqual(router.match("HEAD", "/users"), { pattern: "/users", params: {} });
  });
});

describe("lookup edge cases", () => {
  test("a static route shadows a param route only for the methods it has", () => {
    const r = new Router();
    r.get("/users/me", () => "me");
    r.get("/users/{id}", () => "id");
    r.delete("/users/{id}", () => "delete id");
    assert.deepEqual(r.match("GET", "/users/me"), { pattern: "/users/me", params: {} });
    assert.deepEqual(r.match("DELETE", "/users/me"), { pattern: "/users/{id}", params: { id: "me" } });
    assert.deepEqual(r.match("HEAD", "/users/me"), { pattern: "/users/me", params: {} });
    assert.equal(r.match("POST", "/users/me"), null);
    assert.equal(r.match("POST", "/users/7"), null);
  });

  test("a method with routes only in another branch misses, and 405 still lists the path's methods", async () => {
    const r = new Router();
    r.get("/a/{x}", () => "a");
    r.put("/b/{x}", () => "b");
    assert.equal(r.match("PUT", "/a/1"), null);
    assert.deepEqual(r.match("PUT", "/b/1"), { pattern: "/b/{x}", params: { x: "1" } });
    const res = await get(r, "/a/1", { method: "PUT" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD, OPTIONS");
  });

  test("an any() route answers every method, unknown names included, below method-specific ones", () => {
    const r = new Router();
    r.any("/x/{*rest}", () => "any");
    r.get("/x/{id}", () => "get");
    assert.deepEqual(r.match("GET", "/x/1"), { pattern: "/x/{id}", params: { id: "1" } });
    assert.deepEqual(r.match("POST", "/x/1"), { pattern: "/x/{*rest}", params: { rest: "1" } });
    assert.deepEqual(r.match("PROPFIND", "/x/1"), { pattern: "/x/{*rest}", params: { rest: "1" } });
    assert.equal(r.match("PROPFIND", "/y"), null);
  });

  test("a method's own route wins over any() whichever is registered first, on static and param nodes", async () => {
    for (const order of ["any first", "own first"]) {
      const r = new Router();
      const own = () => {
        r.post("/s", () => "own");
        r.post("/p/{id}", () => "own");
      };
      const any = () => {
        r.any("/s", () => "any");
        r.any("/p/{x}", () => "any");
      };
      if (order === "any first") {
        any();
        own();
      } else {
        own();
        any();
      }
      assert.equal(await (await get(r, "/s", { method: "POST" })).text(), "own", order);
      assert.equal(await (await get(r, "/s", { method: "PUT" })).text(), "any", order);
      assert.deepEqual(r.match("POST", "/p/1"), { pattern: "/p/{id}", params: { id: "1" } }, order);
      assert.deepEqual(r.match("PUT", "/p/1"), { pattern: "/p/{x}", params: { x: "1" } }, order);
    }
  });

  test("a catch-all alone on its level takes the rest, empty included", () => {
    const r = new Router();
    r.get("/{*all}", () => "all");
    r.get("/x/{*r}", () => "x");
    assert.deepEqual(r.match("GET", "/"), { pattern: "/{*all}", params: { all: "" } });
    assert.deepEqual(r.match("GET", "/a/b"), { pattern: "/{*all}", params: { all: "a/b" } });
    assert.deepEqual(r.match("GET", "/x/"), { pattern: "/x/{*r}", params: { r: "" } });
    assert.deepEqual(r.match("GET", "/x/%20/y"), { pattern: "/x/{*r}", params: { r: " /y" } });
    assert.deepEqual(r.match("GET", "/x"), { pattern: "/{*all}", params: { all: "x" } });
  });

  test("a branch the walk backtracks from leaves no parameter value behind", () => {
    const r = new Router();
    r.get("/a/{x}/{y}/z", () => "xyz");
    r.get("/a/{p}/q/{r}", () => "pqr");
    r.get("/a/{*rest}", () => "rest");
    r.get("/b/{id}/posts", () => "posts");
    r.get("/b/{*tail}", () => "tail");
    assert.deepEqual(r.match("GET", "/a/1/2/z"), { pattern: "/a/{x}/{y}/z", params: { x: "1", y: "2" } });
    // {x}/{y} take "1" and "q", then fail at "3": the same depth is retried as {p}/q/{r}.
    assert.deepEqual(r.match("GET", "/a/1/q/3"), { pattern: "/a/{p}/q/{r}", params: { p: "1", r: "3" } });
    assert.deepEqual(r.match("GET", "/a/1/q/3/4"), { pattern: "/a/{*rest}", params: { rest: "1/q/3/4" } });
    assert.deepEqual(r.match("GET", "/b/42/other"), { pattern: "/b/{*tail}", params: { tail: "42/other" } });
    assert.deepEqual(r.match("GET", "/b/42/posts"), { pattern: "/b/{id}/posts", params: { id: "42" } });
    assert.deepEqual(r.match("GET", "/b/caf%C3%A9/x"), { pattern: "/b/{*tail}", params: { tail: "café/x" } });
  });

  test("params are a plain object of the route's own names; __proto__ cannot be a parameter name", async () => {
    const r = new Router();
    r.get("/u/{id}/{*rest}", (req) => ({ keys: Object.keys(req.params), proto: Object.getPrototypeOf(req.params) === Object.prototype, ...req.params }));
    assert.deepEqual(await (await get(r, "/u/7/a/b")).json(), { keys: ["id", "rest"], proto: true, id: "7", rest: "a/b" });
    assert.throws(
      () => r.get("/p/{__proto__}", () => "x"),
      (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_ROUTE_PATTERN",
    );
    assert.throws(
      () => r.get("/p/{*__proto__}", () => "x"),
      (e: unknown) => e instanceof TakoError && e.code === "TAKO_ERR_ROUTE_PATTERN",
    );
  });

  test("static paths alike in length and last character are told apart from each other and from params", () => {
    const r = new Router();
    const long = `/${"a".repeat(70)}`;
    r.get("/ab", () => "ab");
    r.get("/cb", () => "cb");
    r.get(long, () => "long");
    r.get("/{x}", () => "x");
    assert.deepEqual(r.match("GET", "/ab"), { pattern: "/ab", params: {} });
    assert.deepEqual(r.match("GET", "/cb"), { pattern: "/cb", params: {} });
    assert.deepEqual(r.match("GET", "/db"), { pattern: "/{x}", params: { x: "db" } });
    assert.deepEqual(r.match("GET", long), { pattern: long, params: {} });
    assert.deepEqual(r.match("GET", "/aaaaaa"), { pattern: "/{x}", params: { x: "aaaaaa" } }, "lengths 71 and 7 share their low 6 bits");
  });

  test("a miss sharing a prefix with routes is a miss", () => {
    const r = new Router();
    r.get("/api/v1/status", () => "s");
    r.get("/users/{id}/posts", () => "p");
    for (const path of ["/api", "/api/", "/api/v1", "/api/v1/", "/api/v1/statusx", "/api/v1/stat", "/api/v1/status/", "/users/1", "/users/1/postsx", "/users/1/posts/"]) {
      assert.equal(r.match("GET", path), null, path);
    }
  });

  test("percent-encoded segments are decoded once for static, param and catch-all matching", () => {
    const r = new Router();
    r.get("/users/me", () => "me");
    r.get("/users/{id}", () => "id");
    r.get("/files/{*rest}", () => "file");
    assert.deepEqual(r.match("GET", "/users/%6De"), { pattern: "/users/me", params: {} });
    assert.deepEqual(r.match("GET", "/%75sers/caf%C3%A9"), { pattern: "/users/{id}", params: { id: "café" } });
    assert.deepEqual(r.match("GET", "/files/a%2Fb/%20c"), { pattern: "/files/{*rest}", params: { rest: "a/b/ c" } });
  });

  test("malformed percent-encoding is 400 on a hit, on a miss and on a static path", () => {
    const r = new Router();
    r.get("/users/{id}", () => "id");
    r.get("/files/{*rest}", () => "file");
    r.get("/s", () => "s");
    for (const path of ["/users/%zz", "/users/%C3", "/files/ok/%E0%A4%A", "/nope/%zz", "/s/%zz", "/%zz/s", "%zz"]) {
      assert.throws(
        () => r.match("GET", path),
        (e: unknown) => e instanceof HttpError && e.status === 400,
        path,
      );
    }
  });
});

describe("nest and scope", () => {
  test("nest mounts a child's routes under a prefix with its middleware", async () => {
    const child = new Router();
    child.middleware(async (_req, next) => {
      const res = await next();
      res.headers.set("x-child", "1");
      return res;
    });
    child.get("/", () => "child root");
    child.get("/items/{id}", (req) => `item ${req.params.id}`);
    const r = new Router();
    r.get("/", () => "root");
    r.nest("/api", child);
    assert.equal(await (await get(r, "/api")).text(), "child root");
    const res = await get(r, "/api/items/3");
    assert.equal(await res.text(), "item 3");
    assert.equal(res.headers.get("x-child"), "1");
    assert.equal((await get(r, "/")).headers.get("x-child"), null);
    assert.equal(r.match("GET", "/api/items/3")?.pattern, "/api/items/{id}");
  });

  test("scope registers through a child router", async () => {
    const r = new Router();
    r.scope("/v1", (s) => {
      s.get("/ping", () => "pong");
      s.scope("/deep", (d) => d.get("/x", () => "deep"));
    });
    assert.equal(await (await get(r, "/v1/ping")).text(), "pong");
    assert.equal(await (await get(r, "/v1/deep/x")).text(), "deep");
  });
});

describe("middleware", () => {
  test("onion order: global outside route-level, after-code in reverse", async () => {
    const order: string[] = [];
    const r = new Router();
    r.middleware(async (_req, next) => {
      order.push("g1 in");
      const res = await next();
      order.push("g1 out");
      return res;
    });
    r.middleware(async (_req, next) => {
      order.push("g2 in");
      const res = await next();
      order.push("g2 out");
      return res;
    });
    r.get("/", () => {
      order.push("handler");
      return "ok";
    }).middleware(async (_req, next) => {
      order.push("route in");
      const res = await next();
      order.push("route out");
      return res;
    });
    assert.equal(await (await get(r, "/")).text(), "ok");
    assert.deepEqual(order, ["g1 in", "g2 in", "route in", "handler", "route out", "g2 out", "g1 out"]);
  });

  test("middleware may answer early without calling next", async () => {
    const r = new Router();
    let ran = false;
    r.middleware((req, next) => (req.header("authorization") === null ? new Response("login first", { status: 401 }) : next()));
    r.get("/", () => {
      ran = true;
      return "secret";
    });
    const res = await get(r, "/");
    assert.equal(res.status, 401);
    assert.equal(await res.text(), "login first");
    assert.equal(ran, false);
    assert.equal(await (await get(r, "/", { headers: { authorization: "x" } })).text(), "secret");
  });

  test("next() resolves to the error response when the handler throws", async () => {
    const r = new Router();
    let seen = 0;
    r.onError(() => {});
    r.middleware(async (_req, next) => {
      const res = await next();
      seen = res.status;
      return res;
    });
    r.get("/", () => {
      throw new Error("boom");
    });
    const res = await get(r, "/");
    assert.equal(res.status, 500);
    assert.equal(seen, 500);
  });

  test("global middleware also sees 404 and 405 answers", async () => {
    const r = new Router();
    const seen: number[] = [];
    r.middleware(async (_req, next) => {
      const res = await next();
      seen.push(res.status);
      return res;
    });
    r.get("/x", () => "x");
    await get(r, "/nope");
    await get(r, "/x", { method: "POST" });
    assert.deepEqual(seen, [404, 405]);
  });

  test("middleware added after the first request still applies", async () => {
    const r = new Router();
    r.get("/", () => "a");
    assert.equal((await get(r, "/")).headers.get("x-late"), null);
    r.middleware(async (_req, next) => {
      const res = await next();
      res.headers.set("x-late", "1");
      return res;
    });
    assert.equal((await get(r, "/")).headers.get("x-late"), "1");
  });
});

describe("state and errors", () => {
  test("shared state is reachable from handlers", async () => {
    const r = new Router({ state: { greeting: "hi" } });
    r.get("/", (req) => req.state.greeting);
    assert.equal(await (await get(r, "/")).text(), "hi");
  });

  test("a thrown error is a generic 500 and reaches the error hook", async () => {
    const r = new Router();
    const seen: unknown[] = [];
    r.onError((e) => void seen.push(e));
    r.get("/sync", () => {
      throw new Error("secret detail");
    });
    r.get("/async", async () => {
      throw new Error("async secret");
    });
    for (const path of ["/sync", "/async"]) {
      const res = await get(r, path);
      assert.equal(res.status, 500);
      const body = await res.text();
      assert.equal(body, "Internal Server Error");
    }
    assert.equal(seen.length, 2);
  });

  test("the error hook may return a custom response", async () => {
    const r = new Router();
    r.onError(() => new Response("custom", { status: 503 }));
    r.get("/", () => {
      throw new Error("x");
    });
    const res = await get(r, "/");
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "custom");
  });

  test("HttpError gives its status and message, without calling the hook", async () => {
    const r = new Router();
    let called = false;
    r.onError(() => void (called = true));
    r.get("/", () => {
      throw new HttpError(418 as number, "teapot");
    });
    const res = await get(r, "/");
    assert.equal(res.status, 418);
    assert.equal(await res.text(), "teapot");
    assert.equal(called, false);
  });
});

describe("registration errors name the pattern", () => {
  const cases: [string, (r: Router) => void, RegExp][] = [
    ["duplicate route", (r) => (r.get("/a/{x}", () => ""), r.get("/a/{y}", () => "")), /GET "\/a\/\{y\}" conflicts with "\/a\/\{x\}"/],
    ["catch-all not last", (r) => r.get("/a/{*rest}/b", () => ""), /"\/a\/\{\*rest\}\/b".*must be the last segment/],
    ["empty param name", (r) => r.get("/a/{}", () => ""), /"\/a\/\{\}".*empty parameter name/],
    ["duplicate param name", (r) => r.get("/a/{id}/{id}", () => ""), /"\/a\/\{id\}\/\{id\}".*duplicate parameter name "id"/],
    ["missing leading slash", (r) => r.get("a", () => ""), /"a".*must start with "\/"/],
    ["mixed segment", (r) => r.get("/file.{ext}", () => ""), /"\/file\.\{ext\}".*whole segment/],
    ["bad param name", (r) => r.get("/a/{1x}", () => ""), /parameter name "1x"/],
    [
      "nested conflict",
      (r) => {
        r.get("/api/x", () => "");
        const c = new Router();
        c.get("/x", () => "");
        r.nest("/api", c);
      },
      /GET "\/api\/x" conflicts/,
    ],
  ];
  for (const [name, register, message] of cases) {
    test(name, () => {
      const r = new Router();
      assert.throws(
        () => register(r),
        (e: unknown) => e instanceof TakoError && message.test(e.message),
      );
    });
  }

  test("the same pattern under different methods is fine", () => {
    const r = new Router();
    r.get("/a", () => "");
    r.post("/a", () => "");
  });
});
