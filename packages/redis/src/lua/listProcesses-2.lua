--[[
  listProcesses-2: the live worker processes' entries; expired ones are forgotten first.

  KEYS[1] beats  zset  process id -> expiry, ms
  KEYS[2] info   hash  process id -> ProcessInfo JSON text

  Returns the ProcessInfo JSON texts of live entries (nil for an entry without info).
  Codes: none.
]]
--- @include "time"
--- @include "batch"

local expired = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", nowMillis())
if #expired > 0 then
  callEach("ZREM", KEYS[1], expired)
  callEach("HDEL", KEYS[2], expired)
end
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
if #ids == 0 then return {} end
return hmgetEach(KEYS[2], ids)
