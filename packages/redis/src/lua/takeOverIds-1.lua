--[[
  takeOverIds-1: moves ids reserved for a queue that no longer holds their job (a crash
  between steps, or a settlement whose forgetIds has not run yet) to another queue, if the
  reservation is still exactly the one the caller checked (a renewed one has a newer time).

  KEYS[1] ids  hash  job id -> "<queue>@<reserved at, ms>"

  ARGV[1]    queue  string  the queue taking the ids
  then pairs:
  ARGV[i]    id     string
  ARGV[i+1]  seen   string  the reservation the caller found (reserveIds' "=" answer), and
                            found the job missing from its queue

  Returns one integer per pair: 1 taken over (also when the reservation was freed meanwhile),
  0 the reservation changed meanwhile (left alone).
  Codes: -2 malformed arguments.
]]
--- @include "time"

if #ARGV % 2 ~= 1 then return -2 end
local mine = ARGV[1] .. "@" .. string.format("%d", nowMillis())
local out = {}
for i = 2, #ARGV, 2 do
  local current = redis.call("HGET", KEYS[1], ARGV[i])
  if not current or current == ARGV[i + 1] then
    redis.call("HSET", KEYS[1], ARGV[i], mine)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
