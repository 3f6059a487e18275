--[[
  heartbeat-2: writes or refreshes a worker process's registry entry, and forgets entries
  that expired.

  KEYS[1] beats  zset  process id -> expiry, ms
  KEYS[2] info   hash  process id -> ProcessInfo JSON text

  ARGV[1] id         string
  ARGV[2] ttlMillis  int     the entry expires this long after Redis's now
  ARGV[3] info       string  ProcessInfo JSON text, stored as is

  Returns 1.
  Codes: none.
]]
--- @include "time"
--- @include "batch"

local now = nowMillis()
local expired = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now)
if #expired > 0 then
  callEach("ZREM", KEYS[1], expired)
  callEach("HDEL", KEYS[2], expired)
end
redis.call("ZADD", KEYS[1], now + math.floor(tonumber(ARGV[2])), ARGV[1])
redis.call("HSET", KEYS[2], ARGV[1], ARGV[3])
return 1
