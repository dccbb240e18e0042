// The examples keep working: each is started on every runtime and asked what its header says.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { h2, h2Session } from "./_shared/h2-client.ts";
import { http } from "./_shared/http-client.ts";
import { RUNTIMES, startFixture } from "./_shared/spawn.ts";

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
        const inFlight = http(f.port, "/work/600");
        await new Promise((r) => setTimeout(r, 200));
        f.child.kill("SIGTERM");
        const res = await inFlight;
        assert.deepEqual(JSON.parse(res.text), { done: true, ms: 600 });
        assert.equal(res.headers["connection"], "close");
        await f.waitForLine(/^stopped: every in-flight request answered$/);
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
        const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
        f.child.kill("SIGTERM");
        assert.equal(await goaway, 0, "GOAWAY NO_ERROR on drain");
        session.destroy();
        await f.waitForLine(/^stopped: in-flight streams answered, GOAWAY sent$/);
      } finally {
        await f.stop();
      }
    });

    test("demo (npm start)", async () => {
      const f = await startFixture(runtime, "examples/demo/main.ts", { TAKO_ADDR: "127.0.0.1:0", TAKO_H2C_ADDR: "127.0.0.1:0" });
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
      } finally {
        await f.stop();
      }
    });
  });
}
