--[[
  stats-8: one queue's numbers, read in one step. Reads only.

  KEYS[1] ready      list    ready ids, head first
  KEYS[2] scheduled  zset
  KEYS[3] retry      zset
  KEYS[4] leases     zset
  KEYS[5] dead       zset
  KEYS[6] meta       hash    id -> record
  KEYS[7] stats      hash    `processed`, `failed` counters
  KEYS[8] paused     string  present while the queue is paused

  Returns {now, ready, paused, oldestRunAt, scheduled, retry, dead, leased, processed, failed}
    now          int  Redis time, ms
    paused       int  1 or 0
    oldestRunAt  int  due time of the job at the head of the ready list, ms; -1 when empty
    the rest     int  counts
  Codes: none.
]]
--- @include "time"
--- @include "record"
--- @include "encoding"

local oldest = -1
local head = redis.call("LINDEX", KEYS[1], 0)
if head then
  local m = decodeMeta(redis.call("HGET", KEYS[6], head))
  if m then oldest = m.runAt end
end
local counters = redis.call("HMGET", KEYS[7], "processed", "failed")
return {
  nowMillis(),
  redis.call("LLEN", KEYS[1]),
  redis.call("EXISTS", KEYS[8]),
  oldest,
  redis.call("ZCARD", KEYS[2]),
  redis.call("ZCARD", KEYS[3]),
  redis.call("ZCARD", KEYS[5]),
  leasedCount(KEYS[4]),
  tonumber(counters[1] or "0"),
  tonumber(counters[2] or "0")
}
