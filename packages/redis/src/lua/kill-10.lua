--[[
  kill-10: moves a job whose lease the caller holds to the dead set with a reason, then trims
  the queue's dead set to its limits, oldest first.

  KEYS[1] leases   zset  leased ids by deadline
  KEYS[2] token    hash  id -> lease token
  KEYS[3] meta     hash  id -> record
  KEYS[4] payload  hash  id -> payload JSON text
  KEYS[5] errors   hash  id -> error lines
  KEYS[6] reason   hash  id -> why the job is dead
  KEYS[7] dead     zset  dead ids by time of death
  KEYS[8] stats    hash  `failed` counter, `seq` tie-breaker
  KEYS[9] replayA  hash  replay records, even periods (includes/replay.lua)
  KEYS[10] replayB hash  replay records, odd periods

  ARGV[1] id            string
  ARGV[2] token         string
  ARGV[3] reason        string
  ARGV[4] error         string  AttemptError JSON text, appended as is ("" = none)
  ARGV[5] maxErrors     int     error lines kept
  ARGV[6] maxDeadJobs   int     dead jobs kept in this queue
  ARGV[7] maxDeadAge    int     ms a dead job is kept
  ARGV[8] maxErrorBytes int     bytes of error lines kept (older lines dropped first, counted)

  Returns {1, trimmed ids...} when moved (the ids the trim deleted follow), 0 when the lease
  is not held (nothing changed).
  Codes: -1 the record is missing, -3 the record is malformed.

  Running it twice answers the same: the move and the ids it trimmed are recorded for a
  while under the token, and a lease found killed by that record answers as the first run.
]]
--- @include "time"
--- @include "record"
--- @include "replay"
--- @include "lease"
--- @include "errors"
--- @include "batch"

local id = ARGV[1]
local now = nowMillis()
local m, code = endLease(KEYS[1], KEYS[2], KEYS[3], id, ARGV[2])
if not m then
  local before = code == 0 and settledBefore(KEYS[9], KEYS[10], ARGV[2], now, "x")
  if before then
    local answer = cmsgpack.unpack(string.sub(before, 2))
    table.insert(answer, 1, 1)
    return answer
  end
  return code
end
redis.call("HINCRBY", KEYS[8], "failed", 1)
appendError(KEYS[5], id, ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[8]))
m.state = "x"
m.diedAt = now
redis.call("HSET", KEYS[3], id, encodeMeta(m))
redis.call("HSET", KEYS[6], id, ARGV[3])
redis.call("ZADD", KEYS[7], timeScore(now, takeSeq(KEYS[8], 1)), id)

local result = { 1 }
local function forget(ids)
  if #ids == 0 then return end
  for _, trimmed in ipairs(ids) do result[#result + 1] = trimmed end
  callEach("ZREM", KEYS[7], ids)
  deleteRecords(KEYS[3], KEYS[4], KEYS[5], ids)
  callEach("HDEL", KEYS[6], ids)
end
-- Older than maxDeadAge: died before now - maxDeadAge (bounded per call to keep it short).
forget(redis.call("ZRANGEBYSCORE", KEYS[7], "-inf",
  "(" .. string.format("%d", (now - tonumber(ARGV[7])) * SCALE), "LIMIT", 0, 1000))
local excess = redis.call("ZCARD", KEYS[7]) - tonumber(ARGV[6])
if excess > 0 then forget(redis.call("ZRANGE", KEYS[7], 0, math.min(excess, 1000) - 1)) end
local trimmed = {}
for k = 2, #result do trimmed[#trimmed + 1] = result[k] end
recordReplay(KEYS[9], KEYS[10], now, { ARGV[2], "x" .. cmsgpack.pack(trimmed) })
return result
