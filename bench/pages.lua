-- The deep-page load of bench/run.sh: GET <prefix><a random line of the queries file>, with a bearer
-- token. Arguments: <path prefix> <token> <queries file>. The files (one query per page of the
-- list, by page number or by the previous page's cursor) come from `MovieDb.Bench pages`.
local prefix, queries = "/movies", {}

function init(args)
  prefix = args[1]
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  for line in io.lines(args[3]) do
    queries[#queries + 1] = line
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  return wrk.format("GET", prefix .. queries[math.random(#queries)])
end

-- done(): the RESULT line bench/run.sh reads (run.sh runs wrk from the repository's root).
dofile("bench/result.lua")
