-- The request mix of bench/run.sh, the same on every path: 45% a list page, 45% one movie by id,
-- 10% a small create. Arguments: <path prefix> <header mode: bearer> <reader> <writer> <ids file>.
-- <reader>/<writer> are bearer tokens: access tokens through the gateway, identity tokens signed with
-- the gateway's key straight to the movie service (it believes nothing else).
-- Creates go to the writer's collection, so the reader's 10,000 movies stay the same in every run.
local prefix, ids, mode, writer = "/movies", {}, "direct", ""

local function identity(headers, value)
  if mode == "direct" then
    headers["X-User-Id"] = value
    headers["X-User-Name"] = "bench"
    headers["X-User-Roles"] = "user"
  else
    headers["Authorization"] = "Bearer " .. value
  end
end

function init(args)
  prefix, mode, writer = args[1], args[2], args[4]
  identity(wrk.headers, args[3])
  for line in io.lines(args[5]) do
    ids[#ids + 1] = line
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

local body = '{"title":"Made under load","releaseYear":2024,"genres":["Drama"],"runtimeMinutes":90}'
local postHeaders = nil

-- wrk.format replaces wrk.headers by the table it is given: the POST headers carry their own identity.
local function withContentType()
  if postHeaders == nil then
    postHeaders = { ["Content-Type"] = "application/json" }
    identity(postHeaders, writer)
  end
  return postHeaders
end

function request()
  local pick = math.random(100)
  if pick <= 45 then
    return wrk.format("GET", prefix .. "?page=" .. math.random(1, 100) .. "&pageSize=20&sort=title")
  elseif pick <= 90 then
    return wrk.format("GET", prefix .. "/" .. ids[math.random(#ids)])
  else
    return wrk.format("POST", prefix, withContentType(), body)
  end
end

-- done(): the RESULT line bench/run.sh reads (run.sh runs wrk from the repository's root).
dofile("bench/result.lua")
