-- wrk script for bench/run.sh.
--   wrk ... -s bench/wrk/bench.lua URL [-- TOKENS_FILE HEADER]
-- With a tokens file, each request carries the next token of the file in HEADER (cycling), so the
-- miss path sees ~1000 distinct tokens instead of one; the requests are formatted once, in init.
-- Without one, every request is wrk's own (URL and -H headers). Every row goes through request(),
-- so the client does the same work for each row.
-- done() prints one machine-readable line: WRK_RESULT key=value ...

local prepared = {}
local count = 0
local next_index = 0

function init(args)
  local file, header = args[1], args[2]
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then
        count = count + 1
        prepared[count] = wrk.format(nil, nil, { [header] = line })
      end
    end
  end
  if count == 0 then
    count = 1
    prepared[1] = wrk.format()
  end
end

function request()
  next_index = next_index + 1
  if next_index > count then
    next_index = 1
  end
  return prepared[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
