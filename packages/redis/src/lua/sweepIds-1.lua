--[[
  sweepIds-1: frees id-index entries of jobs that are gone: the caller found each id missing
  from the queue its entry names (a deletion whose forgetIds reply was lost, or a crash between
  the steps of enqueue or delete). An entry is freed only while it is still exactly what the
  caller read and its reservation is older than the grace (a younger one may belong to an
  enqueue still on its way).

  KEYS[1] ids  hash  job id -> "<queue>@<reserved at, ms>"

  ARGV[1]  grace  int  ms a reservation is left alone
  then pairs:
  ARGV[i]    id     string
  ARGV[i+1]  seen   string  the entry the caller read

  Returns how many entries were freed.
  Codes: -2 malformed arguments.
]]
--- @include "time"

if #ARGV % 2 ~= 1 then return -2 end
local now = nowMillis()
local grace = tonumber(ARGV[1])
local freed = 0
for i = 2, #ARGV, 2 do
  local seen = ARGV[i + 1]
  if redis.call("HGET", KEYS[1], ARGV[i]) == seen then
    local at = tonumber(string.match(seen, "@(%d+)$") or "0")
    if now - at >= grace then
      redis.call("HDEL", KEYS[1], ARGV[i])
      freed = freed + 1
    end
  end
end
return freed
