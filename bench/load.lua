-- wrk script for bench/: GET one path ("fixed"), or the path plus a new number per request ("vary").
-- Usage: wrk ... -s bench/load.lua http://127.0.0.1:PORT -- fixed|vary /path
-- Every variant goes through this script, so wrk's per-request cost is the same for all of them.
local mode, target, n = "fixed", "/", 0

function init(args)
  mode = args[1] or mode
  target = args[2] or target
end

function request()
  if mode == "vary" then
    n = n + 1
    return wrk.format("GET", target .. n)
  end
  return wrk.format("GET", target)
end
