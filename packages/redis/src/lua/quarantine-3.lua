--[[
  quarantine-3: sets leased jobs aside whose record the client could not read, when the
  caller holds their lease; their record, payload and error lines stay as they are.

  KEYS[1] leases      zset  leased ids by deadline
  KEYS[2] token       hash  id -> lease token
  KEYS[3] quarantine  hash  id -> "<ms>|<reason>"

  ARGV[1] reason  string  why (the client's words)
  then pairs:
  ARGV[i]   id     string
  ARGV[i+1] token  string

  Returns the ids set aside (a lease not held is skipped: someone else settled it).
  Codes: -2 malformed arguments.

  Running it twice answers the same: an id no longer leased but in the quarantine was set
  aside by the first run (nothing else puts an unleased id there while its reply is lost).
]]
--- @include "time"

if #ARGV < 3 or (#ARGV - 1) % 2 ~= 0 then return -2 end
local now = nowMillis()
local moved = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local held = redis.call("HGET", KEYS[2], id)
  if held == ARGV[i + 1] then
    redis.call("ZREM", KEYS[1], id)
    redis.call("HDEL", KEYS[2], id)
    redis.call("HSET", KEYS[3], id, now .. "|" .. ARGV[1])
    moved[#moved + 1] = id
  elseif held == false and redis.call("HEXISTS", KEYS[3], id) == 1 then
    moved[#moved + 1] = id
  end
end
return moved
