-- wrk script for POST /ingest. BATCH events per request; each request authenticates as one of
-- DEVICES devices (tokens bench-token-<i>), so keys spread over the partitions.
local batch = tonumber(os.getenv("BATCH") or "1")
local devices = tonumber(os.getenv("DEVICES") or "100")
local counter = 0

local event = '{"use_case":"fleet.position","schema":"v1","ts":"2026-11-21T10:15:30.123Z",' ..
  '"payload":{"lat":52.52,"lon":13.405,"speed_kmh":61.2,"heading_deg":270,"status":"delivering"}}'
local parts = {}
for i = 1, batch do parts[i] = event end
local body = '{"events":[' .. table.concat(parts, ",") .. ']}'

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  n = id * 7919
end

function request()
  n = n + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer bench-token-" .. (n % devices),
  }
  return wrk.format("POST", "/ingest", headers, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"non_2xx":%d,"socket_errors":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration / 1e6, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
