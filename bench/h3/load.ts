// The HTTP/3 load client, run under Bun (pinned to its own core by bench/h3/run.ts): `workers`
// loops, each sending one request at a time with Bun's `fetch(url, { protocol: "http3" })`, for
// `seconds`, after `warmup` seconds of the same. argv[2]: JSON { port, method, path, body?,
// workers, seconds, warmup }. Prints one JSON line: requests completed in the measured window,
// non-2xx answers, errors, and the client's own CPU time (to tell when it, not the server, is the
// bottleneck). Bun's HTTP/3 client takes no CA (Bun 1.4.5): certificates are not checked here.
interface LoadJob {
  readonly port: number;
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
  readonly workers: number;
  readonly seconds: number;
  readonly warmup: number;
  /** Send one request and print `{ status, body }` instead (the runner's answer check). */
  readonly check?: boolean;
}

const job = JSON.parse(process.argv[2]!) as LoadJob;
const url = `https://127.0.0.1:${job.port}${job.path}`;
const init = {
  method: job.method,
  body: job.body,
  headers: job.body === undefined ? {} : { "content-type": "application/json" },
  protocol: "http3",
  tls: { rejectUnauthorized: false },
} as RequestInit;

if (job.check === true) {
  try {
    const response = await fetch(url, init);
    console.log(JSON.stringify({ status: response.status, body: await response.text() }));
  } catch (error) {
    console.log(JSON.stringify({ status: 0, body: String(error) }));
  }
  process.exit(0);
}

let measuring = false;
let stop = false;
let requests = 0;
let non2xx = 0;
let errors = 0;

async function worker(): Promise<void> {
  while (!stop) {
    try {
      const response = await fetch(url, init);
      await response.arrayBuffer();
      if (measuring) {
        if (response.status >= 200 && response.status < 300) requests++;
        else non2xx++;
      }
    } catch {
      if (measuring) errors++;
    }
  }
}

const loops = Array.from({ length: job.workers }, worker);
await new Promise((r) => setTimeout(r, job.warmup * 1000));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
measuring = true;
await new Promise((r) => setTimeout(r, job.seconds * 1000));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
stop = true;
await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
console.log(JSON.stringify({ requests, non2xx, errors, seconds: elapsed, rps: requests / elapsed, clientCpu: (cpu.user + cpu.system) / 1e6 / elapsed }));
process.exit(0);
