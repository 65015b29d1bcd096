-- wrk script for bench.pull: POSTs the Pull bodies of a file (one per line) in rotation
-- and prints the latency percentiles as one JSON line at the end.
-- usage: wrk -t1 -c8 -d2s -s bench/pull.lua URL -- BODIES_FILE "Basic ..."
local bodies = {}
local counter = 0
local auth = nil

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  auth = args[2]
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  local headers = {["Content-Type"] = "application/json"}
  if auth and #auth > 0 then headers["Authorization"] = auth end
  return wrk.format("POST", nil, headers, bodies[counter])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
