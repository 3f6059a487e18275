--[[
  extendLeases-2: pushes out the deadlines of leases the caller still holds.

  KEYS[1] leases  zset  leased ids by deadline (ms)
  KEYS[2] token   hash  id -> lease token

  ARGV[1] leaseMillis  int     new lease length from Redis's now, ms
  then pairs:
  ARGV[i]   id         string
  ARGV[i+1] token      string

  Returns the ids whose lease is no longer held by that token.
  Codes: -2 malformed arguments.
]]
--- @include "time"

if #ARGV % 2 ~= 1 then return -2 end
local deadline = nowMillis() + math.floor(tonumber(ARGV[1]))
local lost = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call("HGET", KEYS[2], id) == ARGV[i + 1] then
    redis.call("ZADD", KEYS[1], deadline, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
