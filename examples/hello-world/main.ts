// The smallest tako server. The same file runs on Node.js, Bun and Deno:
//   node --import tsx examples/hello-world/main.ts
//   bun examples/hello-world/main.ts
//   deno run -A examples/hello-world/main.ts
// (In your own project: `import { Router, serve, TcpListener } from "tako"`.)
import { Router, serve, TcpListener } from "../../src/index.ts";

const router = new Router();
router.get("/", () => "Hello, World!");
router.get("/hello/{name}", (req) => ({ hello: req.params.name }));

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
const { address, port } = listener.localAddr();
console.log(`listening on http://${address}:${port}`);
await serve(listener, router);
