// Differential fuzz test: the codec against llhttp (Node 20's parser, through its binding) on
// seeded mutations of valid requests, cut into chunks at random offsets. The property:
// whenever llhttp refuses, the codec refuses (it never reads a request, a head or a body byte
// that llhttp would not); whenever the codec accepts, it read what llhttp read. Where the codec
// refuses and llhttp accepts, the reason must be one of the deliberate ones in STRICTER.
// Reproduce a failure with HTTP1_FUZZ_SEED=<seed printed> (and HTTP1_FUZZ_CASES).
import assert from "node:assert/strict";
import { test } from "node:test";
import { HEAD_PROBLEMS } from "../../src/core/request-rules.ts";
import { type Collected, collect, split } from "./_collect.ts";
import { fuzzCase, prng } from "./_fuzz.ts";
import { type LlhttpResult, llhttpParse } from "./_llhttp.ts";

/** Where the codec is stricter than llhttp, on purpose: the refusal reason → why. */
export const STRICTER: Readonly<Record<string, string>> = {
  "a line ends in LF without CR": "llhttp takes bare LFs as empty lines before a request line; RFC 9112 §2.2 allows either, CRLF only is simpler to reason about",
  "a bare CR before a request line": "llhttp skips stray CR and LF bytes between requests; only CRLF empty lines are skipped here",
  "empty request target (or two spaces)": "llhttp skips extra spaces after the method; RFC 9112 §3 says one SP",
  "a request line without an HTTP version": "llhttp reads `GET /` as HTTP/0.9; tako serves HTTP/1.x only",
  [HEAD_PROBLEMS.version]: "llhttp takes HTTP/0.9 and HTTP/2.0 in a request line; tako answers 505 on every listener",
  "malformed HTTP version": "llhttp takes `RTSP/1.0` after an HTTP method",
  "asterisk-form is `OPTIONS *` only": "llhttp takes `*…` with any method; RFC 9112 §3.2.4 has `*` for OPTIONS only",
  "a CONNECT target must be host:port": "llhttp takes `/`, `?`, `*` in a CONNECT target; RFC 9112 §3.2.3 has authority-form only",
  "empty authority in the request target": "llhttp takes `http://`; RFC 9110 §4.2.1 needs a host",
  "malformed authority in the request target": "a second `@` (llhttp takes `a@b:@c`); userinfo is refused by tako anyway (request-rules absoluteFormProblem)",
  "malformed request target": "llhttp's absolute-form check is a little wider after the scheme",
  [HEAD_PROBLEMS.transferEncoding]: "llhttp takes codings before chunked (`gzip, chunked`); tako decodes chunked only (request-rules isChunkedOnly)",
  "empty Transfer-Encoding": "llhttp ignores an empty Transfer-Encoding line and frames by Content-Length: two parsers could disagree on the body",
  "Transfer-Encoding in a trailer section": "RFC 9110 §6.5.1: framing fields do not belong in trailers; llhttp takes this one",
  "a connection-management field in a trailer section": "RFC 9110 §6.5.1; llhttp applies a Connection field from the trailers",
  "Transfer-Encoding in an HTTP/1.0 request": "RFC 9112 §6.1: the framing of such a message is faulty; llhttp decodes it as chunked",
  "a CONNECT request with content": "RFC 9110 §9.3.6; llhttp ignores the declared length and leaves those bytes to the tunnel",
  "request head too large":
    "the limit counts every byte of the head (request line, CRLFs, colons); Node's counts the target, names and values, so the same 16 KiB is reached a little sooner",
  "trailer section too large": "as for the head: every byte of the trailer section counts",
  "chunk extensions too large": "the limit counts every byte after the chunk size (`;` and `=` too); Node's counts names and values",
  "chunk size too large": "chunk sizes stop at 2^53 - 1 (exact in a JS number); llhttp's at 2^64 - 1",
  "Content-Length too large": "lengths stop at 2^53 - 1 (exact in a JS number); llhttp's at 2^64 - 1",
  "empty chunk extension value": "`;a=` is not RFC 9112 §7.1.1 grammar; llhttp takes it",
  "malformed chunk extension": 'llhttp takes a token run straight into a quoted string (`q=1"a b"`); RFC 9112 §7.1.1 has one or the other',
  "empty chunk extension name": "`;;` is not RFC 9112 §7.1.1 grammar; llhttp takes it",
  "data after a request that closes the connection": "after an HTTP/1.0 request saying both `close` and `keep-alive`: close wins here, llhttp keeps the connection",
  "an RTSP method": "llhttp takes an RTSP method in a request line without a version (HTTP/0.9 form); an HTTP/1.x server has no use for them",
  "PRI, the HTTP/2 connection preface": "llhttp reads `PRI /x` without a version as an HTTP/0.9 request; the full preface it pauses on",
  "QUERY is not served yet": "llhttp 9.3 parses QUERY, but Node 20's node:http cannot name it (req.method is undefined), so no tako listener serves it",
};

const CASES = Number(process.env.HTTP1_FUZZ_CASES ?? 20_000);
const SEED = Number(process.env.HTTP1_FUZZ_SEED ?? 0x7a6b0);

const heads = (c: Collected): number => c.requests.length;
const completed = (c: { requests: { complete: boolean }[] }): number => c.requests.filter((r) => r.complete).length;

/** Why the codec's result breaks the property against llhttp's, or null. */
function disagreement(t: Collected, l: LlhttpResult): string | null {
  if (heads(t) > l.requests.length) return `the codec read ${heads(t)} heads, llhttp ${l.requests.length}`;
  if (completed(t) > completed(l)) return `the codec completed ${completed(t)} requests, llhttp ${completed(l)}`;
  for (let k = 0; k < heads(t); k++) {
    const a = t.requests[k]!;
    const b = l.requests[k]!;
    const head = a.head;
    if (head.method !== b.method || head.target !== b.target || b.versionMajor !== 1 || head.versionMinor !== b.versionMinor) return `request ${k}: request line differs`;
    if (JSON.stringify(head.headers) !== JSON.stringify(b.headers)) return `request ${k}: headers differ: ${JSON.stringify(head.headers)} vs ${JSON.stringify(b.headers)}`;
    if (head.upgrade !== b.upgrade) return `request ${k}: upgrade ${head.upgrade} vs ${b.upgrade}`;
    if (head.keepAlive && !b.keepAlive) return `request ${k}: the codec keeps the connection, llhttp does not`;
    if (a.complete) {
      if (!a.body.equals(b.body)) return `request ${k}: body differs`;
      if (JSON.stringify(a.trailers ?? []) !== JSON.stringify(b.trailers)) return `request ${k}: trailers differ`;
    } else if (!b.body.subarray(0, a.body.length).equals(a.body)) return `request ${k}: partial body is not a prefix of llhttp's`;
  }
  if (t.upgrade && (!l.upgrade || t.consumed !== l.consumed)) return `upgrade: the codec stopped at ${t.consumed}, llhttp ${l.upgrade ? l.consumed : "did not"}`;
  if (codecOnly(t, l) && STRICTER[t.error!.message] === undefined) return `the codec refused (${t.error!.code}: ${t.error!.message}) what llhttp accepted`;
  return null;
}

/** The codec refused a message (or its head) that llhttp read to the end (or read the head of). */
function codecOnly(t: Collected, l: LlhttpResult): boolean {
  return t.error !== null && (completed(l) > completed(t) || l.requests.length > heads(t));
}

test(`differential fuzz against llhttp: ${CASES} seeded cases (seed ${SEED})`, { timeout: 60_000 }, () => {
  const rand = prng(SEED);
  const stricter = new Map<string, number>();
  let bothRefused = 0;
  let bothAccepted = 0;
  let undecided = 0;
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const { bytes, cuts } = fuzzCase(rand);
    const l = llhttpParse([bytes]);
    const t = collect(split(bytes, cuts));
    const problem = disagreement(t, l);
    if (problem !== null) {
      assert.fail(
        `seed ${SEED}, case ${i}: ${problem}\ninput (latin1): ${JSON.stringify(Buffer.from(bytes).toString("latin1"))}\ncuts: ${JSON.stringify(cuts)}\nllhttp: ${l.error ?? "ok"}, codec: ${t.error?.code ?? "ok"} ${t.error?.message ?? ""}`,
      );
    }
    if (codecOnly(t, l)) stricter.set(t.error!.message, (stricter.get(t.error!.message) ?? 0) + 1);
    else if (t.error !== null && l.error !== null) bothRefused++;
    else if (t.error === null && l.error === null) bothAccepted++;
    else undecided++;
  }
  const ms = Math.round(performance.now() - started);
  const lines = [...stricter].map(([reason, n]) => `  ${n} × ${reason}`).join("\n");
  console.log(
    `${CASES} cases in ${ms} ms (seed ${SEED}): ${bothAccepted} accepted by both, ${bothRefused} refused by both, ${undecided} refused by the codec before llhttp had decided (input ended); refused by the codec only:\n${lines}`,
  );
});

test("limits: whenever Node's 16 KiB head limit or chunk-extension limit refuses, the codec refuses (seeded sizes near the limits)", () => {
  const rand = prng(SEED);
  const pad = (n: number): string => "a".repeat(n);
  let refusedByBoth = 0;
  let codecOnly = 0;
  for (let i = 0; i < 400; i++) {
    const fields = 1 + Math.floor(rand() * 40);
    const sizes = Array.from({ length: fields }, () => Math.floor(rand() * ((2 * 16384) / fields)));
    const trailer = rand() < 0.3 ? Math.floor(rand() * 17000) : 0;
    const ext = rand() < 0.3 ? Math.floor(rand() * 17000) : 0;
    const head = `POST /${pad(Math.floor(rand() * 200))} HTTP/1.1\r\n${sizes.map((n, k) => `X-${k}: ${pad(n)}\r\n`).join("")}Transfer-Encoding: chunked\r\n\r\n`;
    const body = `1${ext > 0 ? `;e=${pad(ext)}` : ""}\r\nx\r\n0\r\n${trailer > 0 ? `T: ${pad(trailer)}\r\n` : ""}\r\n`;
    const bytes = Buffer.from(head + body, "latin1");
    const l = llhttpParse([bytes]);
    const t = collect([bytes]);
    const problem = disagreement(t, l);
    if (problem !== null) {
      assert.fail(`seed ${SEED}, limits case ${i}: ${problem} (llhttp ${l.error ?? "ok"}, codec ${t.error?.code ?? "ok"})`);
    }
    if (l.error !== null) {
      assert.notEqual(t.error, null, `seed ${SEED}, limits case ${i}: llhttp refused (${l.error}), the codec did not`);
      refusedByBoth++;
    } else if (t.error !== null) codecOnly++;
  }
  console.log(`limits: 400 cases, ${refusedByBoth} refused by both, ${codecOnly} by the codec only (it counts every byte of the head)`);
  assert.ok(refusedByBoth > 50, `only ${refusedByBoth} cases reached a limit`);
});
