-- POST /echo with a small JSON body; the request is built once by wrk (no per-request Lua).
wrk.method = "POST"
wrk.body = '{"name":"tako","id":42,"tags":["http","bench"],"active":true}'
wrk.headers["Content-Type"] = "application/json"

-- One machine-readable line at the end, next to wrk's usual text report.
function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
