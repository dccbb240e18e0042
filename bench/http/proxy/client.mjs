// Server CPU per request behind the PROXY protocol, which wrk cannot send. C connections, each
// opening with a PROXY v1 header (NOPROXY=1: none, for raw Bun.serve), then R requests one after
// another (keep-alive, each after the previous answer); one warm-up pass, then one measured. The
// server's CPU time comes from /proc/<pid>/stat (utime + stime, 10 ms ticks).
//   bun bench/http/proxy/server.ts &   # prints PORT <n>; pin it (taskset -c 0) and this (-c 1)
//   node bench/http/proxy/client.mjs <port> <server pid> [C=32] [R=2000]
import { readFileSync } from "node:fs";
import { connect } from "node:net";

const [port, pid] = process.argv.slice(2, 4).map(Number);
const C = Number(process.argv[4] ?? 32);
const R = Number(process.argv[5] ?? 2000);
const ticks = () => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]);
};
const REQ = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
const ANSWER = "Hello, World!";
const conn = (i) =>
  new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    let left = R;
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      for (let k = buf.indexOf(ANSWER); k >= 0; k = buf.indexOf(ANSWER)) {
        buf = buf.slice(k + ANSWER.length);
        if (--left === 0) {
          s.end();
          return resolve();
        }
        s.write(REQ);
      }
    });
    s.on("error", reject);
    s.on("connect", () => s.write(process.env.NOPROXY === "1" ? REQ : `PROXY TCP4 198.51.100.${i % 250} 192.0.2.1 ${1000 + i} 80\r\n${REQ}`));
  });
const pass = () => Promise.all(Array.from({ length: C }, (_, i) => conn(i)));
await pass();
const t0 = ticks();
const w0 = performance.now();
await pass();
const cpuMs = (ticks() - t0) * 10;
const wall = performance.now() - w0;
const n = C * R;
console.log(`${n} requests: server CPU ${((cpuMs * 1000) / n).toFixed(1)} µs/request; ${(n / (wall / 1000)).toFixed(0)} req/s`);
