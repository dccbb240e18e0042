// Request-semantics fixture: an app that reports what handlers see of a request's authority,
// reads uploads, streams a body that fails midway, and answers with `Connection: close`.
// TAKO_CONFIG (JSON) configures the server; TAKO_PROTO=h2c serves spawnH2c({ http1: true }),
// TAKO_PROTO=tls spawnTls (the test certificate for localhost), anything else spawnHttp.
//
// Stdout lines the tests wait for:
//   READING <id>                 an upload handler started reading its body
//   UPLOAD-FAILED <id> <status>  the body read failed: 400 = a client error (HttpError), 500 = anything else
//   STREAMING <id>               a streamed response started
//   ONERROR <path> <name>        the router's onError hook received an error (never for an HttpError)
//   MARK <id>                    GET /mark/<id> was served: every line printed before it is in
// Prints "READY <port>"; SIGTERM drains it.
import { HttpError, Router, Server, TcpListener, TlsCert } from "../../src/index.ts";
import type { FetchRequest } from "../../src/core/index.ts";
import { testCerts } from "../_shared/certs.ts";
import { runFixture } from "../_shared/fixture-main.ts";

const router = new Router();
router.onError((error, req) => {
  console.log(`ONERROR ${req.path} ${error instanceof Error ? error.name : typeof error}`);
});
router.get("/", () => "ok");
router.get("/mark/{id}", (req) => {
  console.log(`MARK ${req.params.id}`);
  return "marked";
});
router.get("/authority", (req) => ({
  host: req.header("host"),
  hosts: req.headers.get("host"),
  target: req.target,
  path: req.path,
  query: req.rawQuery,
}));

/** Runs an upload read, printing when it starts and how it failed. */
async function upload(req: { query: URLSearchParams }, read: () => Promise<number>): Promise<{ bytes: number }> {
  const id = req.query.get("id") ?? "-";
  console.log(`READING ${id}`);
  try {
    return { bytes: await read() };
  } catch (error) {
    console.log(`UPLOAD-FAILED ${id} ${error instanceof HttpError ? error.status : 500}`);
    throw error;
  }
}
router.post("/upload", (req) => upload(req, async () => (await req.bytes()).byteLength));
router.post("/upload-stream", (req) =>
  upload(req, async () => {
    let n = 0;
    for await (const chunk of req.body ?? []) n += (chunk as Uint8Array).byteLength;
    return n;
  }),
);

// A streamed body that fails after its first chunk.
router.get("/stream-throws", (req) => {
  console.log(`STREAMING ${req.query.get("id") ?? "-"}`);
  return (async function* () {
    yield "first\n";
    await new Promise((r) => setTimeout(r, 10));
    throw new Error("stream failed midway");
  })();
});

// A response that asks for the connection to close; the second cancels the request body first
// (Fetch-backed requests only: it is the Deno.serve evidence).
router.get("/close", () => new Response("bye", { headers: { connection: "close" } }));
router.post("/cancel-then-close", async (req) => {
  await (req as unknown as FetchRequest).raw.body?.cancel();
  return new Response("cancelled", { status: 413, headers: { connection: "close" } });
});

const config = JSON.parse(process.env.TAKO_CONFIG ?? "{}");
const listener = await TcpListener.bind("127.0.0.1:0");
const builder = Server.builder().config(config);
const proto = process.env.TAKO_PROTO ?? "http1";
let handle;
if (proto === "h2c") handle = builder.build().spawnH2c(listener, router, { http1: true });
else if (proto === "tls") {
  const certs = testCerts();
  handle = builder.tls(TlsCert.pemPaths(certs.localhost.cert, certs.localhost.key)).build().spawnTls(listener, router);
} else handle = builder.build().spawnHttp(listener, router);
await runFixture(handle);
