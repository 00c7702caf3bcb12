-- BENCH_MODE=stages with BENCH_STAGE_MIX=thin: one request the movie service answers without its
-- database — GET <prefix>/not-a-movie, which its routes ({id:guid}) answer 404 — so that what is
-- measured is the proxy in front of it. Arguments: <path prefix> <bearer token>.
-- The RESULT line (as bench/result.lua's) counts as errors the answers that are not that 404 (a 401,
-- 429 or 503 would make a proxy look cheaper than it is) and wrk's socket errors.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.path = args[1] .. "/not-a-movie"
  unexpected = 0
end

function response(status)
  if status ~= 404 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("unexpected")
  end
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %.2f %d %d\n",
    summary.requests / (summary.duration / 1000000),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, wrong + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
