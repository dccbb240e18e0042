-- Warm-up: cycles through the three benchmarked requests so every route's code gets hot.
local body = '{"name":"tako","id":42,"tags":["http","bench"],"active":true}'
local requests = {}
local i = 0

function init(args)
  requests[1] = wrk.format("GET", "/")
  requests[2] = wrk.format("GET", "/users/42")
  requests[3] = wrk.format("POST", "/echo", { ["Content-Type"] = "application/json" }, body)
end

function request()
  i = i % 3 + 1
  return requests[i]
end
