-- BENCH_MODE=stages with BENCH_STAGE_MIX=thin: one request the movie service answers without its
-- database — GET <prefix>/not-a-movie, which its routes ({id:guid}) answer 404 — so that what is
-- measured is the proxy in front of it. Arguments: <path prefix> <bearer token>.
-- Every answer is a 404 by design: wrk counts them as errors; bench/stages.sh checks each variant
-- answers exactly that before it measures.
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.path = args[1] .. "/not-a-movie"
end

dofile("bench/result.lua")
