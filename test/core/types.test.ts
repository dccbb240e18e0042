// Type-level checks of the public API: `npm test` type-checks this file before running it, so a
// wrong inference fails the suite. The runtime assertions keep the file an ordinary test.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Router, type Params } from "../../src/index.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(value: T): T => value;

test("params are inferred from the pattern", async () => {
  expectType<Equal<Params<"/users/{id}">, { readonly id: string }>>(true);
  expectType<Equal<Params<"/a/{x}/b/{*rest}">, { readonly x: string; readonly rest: string }>>(true);
  expectType<Equal<Params<"/static">, {}>>(true);
  const router = new Router({ state: { n: 1 } });
  router.get("/users/{id}/posts/{postId}", (req) => {
    const id: string = req.params.id;
    const postId: string = req.params.postId;
    // @ts-expect-error: not a parameter of this pattern
    void req.params.nope;
    const n: number = req.state.n;
    return { id, postId, n };
  });
  const res = await router.fetch(new Request("http://t/users/1/posts/2"));
  assert.deepEqual(await res.json(), { id: "1", postId: "2", n: 1 });
});
