--[[
  requeue-6: puts a job whose lease the caller holds back at the head of its queue and gives
  the claim's attempt back (interruption: shutdown or a lost lease).

  KEYS[1] leases  zset  leased ids by deadline
  KEYS[2] token   hash  id -> lease token
  KEYS[3] meta    hash  id -> record
  KEYS[4] ready   list  ready ids
  KEYS[5] replayA hash  replay records, even periods (includes/replay.lua)
  KEYS[6] replayB hash  replay records, odd periods

  ARGV[1] channel  string  wake channel
  ARGV[2] id       string
  ARGV[3] token    string

  Returns 1 requeued, 0 lease not held (nothing changed).
  Codes: -1 the record is missing, -3 the record is malformed.

  Running it twice answers 1 again and puts nothing back twice: the requeue is recorded for a
  while under the token.
]]
--- @include "time"
--- @include "record"
--- @include "replay"
--- @include "lease"

local id = ARGV[2]
local now = nowMillis()
local m, code = endLease(KEYS[1], KEYS[2], KEYS[3], id, ARGV[3])
if not m then
  if code == 0 and settledBefore(KEYS[5], KEYS[6], ARGV[3], now, "r") then return 1 end
  return code
end
recordReplay(KEYS[5], KEYS[6], now, { ARGV[3], "r" })
m.attempt = m.attempt - 1
m.state = "r"
redis.call("HSET", KEYS[3], id, encodeMeta(m))
redis.call("LPUSH", KEYS[4], id)
redis.call("PUBLISH", ARGV[1], "requeue")
return 1
