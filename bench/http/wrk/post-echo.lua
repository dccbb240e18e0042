-- POST /echo with a small JSON body; the request is built once by wrk (no per-request Lua).
wrk.method = "POST"
wrk.body = '{"name":"tako","id":42,"tags":["http","bench"],"active":true}'
wrk.headers["Content-Type"] = "application/json"

-- The same machine-readable done() line as the GET runs.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
