// Loads tako from its compiled package on Node in the benches: with `--import tsx --import
// ./bench/node-dist.mjs`, an import that resolves to a checkout's `src/**/*.ts` is served from
// the same checkout's `dist/**/*.js` (`npm run build`), which is what a Node user of the published
// package runs. tsx still compiles the bench's own server files. Reason: tsx keeps function
// names (esbuild `keepNames`), so every closure tako creates per request would also cost a
// `__name()` call, an `Object.defineProperty` on the function, that the package does not have
// (measured: ~0.24 µs per POST /echo request on Node 20). A file without a compiled twin (no
// build yet) stays on tsx.
import { register } from "node:module";

register("./node-dist-hooks.mjs", import.meta.url);
