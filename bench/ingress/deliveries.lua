-- wrk script for bench/ingress, bench/replicas and bench/compare: replays pre-signed DocSpace deliveries,
-- each with its own event id.
--
-- wrk's Lua has no crypto, so bench_ingress.py signs the bodies beforehand and writes complete HTTP
-- requests to a file, each prefixed by its length as 8 decimal digits. Every wrk thread reads its own file
-- (PREFIX.<thread index>) and cycles through it; if it ever wraps around, later requests repeat event ids
-- (answered 200 "duplicate", nothing stored), so the number of wraps is reported and the driver sizes the
-- files to avoid it.
--
-- Usage: wrk -t T -c C -d D --latency -s deliveries.lua URL -- PREFIX [MEAN_DELAY_MS]
--
-- With MEAN_DELAY_MS, every connection waits a random time (uniform over 0..2x the mean) before each
-- request, so C connections offer about C * 1000 / MEAN_DELAY_MS requests/s in no lock-step: a fixed
-- offered load instead of wrk's usual "as fast as the server answers". wrk starts each latency sample
-- when the request is sent, after the wait.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("index", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local path = args[1] .. "." .. index
   local file = assert(io.open(path, "rb"))
   local data = file:read("*a")
   file:close()
   requests = {}
   local pos = 1
   while pos <= #data do
      local length = tonumber(data:sub(pos, pos + 7))
      requests[#requests + 1] = data:sub(pos + 8, pos + 7 + length)
      pos = pos + 8 + length
   end
   data = nil
   collectgarbage()
   cursor = 0
   wraps = 0
   local mean = tonumber(args[2] or "0")
   if mean > 0 then
      math.randomseed(os.time() + index)
      -- wrk looks for a global delay() after init() and then calls it before every request.
      delay = function() return math.floor(math.random() * 2 * mean + 0.5) end
   end
end

function request()
   cursor = cursor + 1
   if cursor > #requests then
      cursor = 1
      wraps = wraps + 1
   end
   return requests[cursor]
end

function done(summary, latency, _)
   local wrapped = 0
   for _, thread in ipairs(threads) do
      wrapped = wrapped + (thread:get("wraps") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
      '"errors_status":%d,"errors_timeout":%d,"latency_p50_us":%d,"latency_p90_us":%d,"latency_p99_us":%d,' ..
      '"latency_max_us":%d,"latency_mean_us":%.1f,"wraps":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, wrapped))
end
