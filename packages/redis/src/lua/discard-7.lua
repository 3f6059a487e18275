--[[
  discard-7: drops a job whose lease the caller holds (Job.Discard); no counter moves.

  KEYS[1] leases   zset  leased ids by deadline
  KEYS[2] token    hash  id -> lease token
  KEYS[3] meta     hash  id -> record
  KEYS[4] payload  hash  id -> payload JSON text
  KEYS[5] errors   hash  id -> error lines
  KEYS[6] replayA  hash  replay records, even periods (includes/replay.lua)
  KEYS[7] replayB  hash  replay records, odd periods

  ARGV[1] id     string
  ARGV[2] token  string

  Returns 1 dropped, 0 lease not held (nothing changed).
  Codes: none.

  Running it twice answers 1 again: the drop is recorded for a while under the token.
]]
--- @include "time"
--- @include "replay"

local id = ARGV[1]
local now = nowMillis()
if redis.call("HGET", KEYS[2], id) ~= ARGV[2] then
  return replayed(KEYS[6], KEYS[7], ARGV[2], now) == "d" and 1 or 0
end
recordReplay(KEYS[6], KEYS[7], now, { ARGV[2], "d" })
redis.call("ZREM", KEYS[1], id)
redis.call("HDEL", KEYS[2], id)
redis.call("HDEL", KEYS[3], id)
redis.call("HDEL", KEYS[4], id)
redis.call("HDEL", KEYS[5], id)
return 1
