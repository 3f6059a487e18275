--[[
  retry-6: moves a job whose lease the caller holds to the retry set, due `delayMillis`
  after Redis's now.

  KEYS[1] leases  zset  leased ids by deadline
  KEYS[2] token   hash  id -> lease token
  KEYS[3] meta    hash  id -> record
  KEYS[4] errors  hash  id -> error lines
  KEYS[5] retry   zset  retry ids by due time
  KEYS[6] stats   hash  `failed` counter, `seq` tie-breaker

  ARGV[1] channel       string  wake channel
  ARGV[2] id            string
  ARGV[3] token         string
  ARGV[4] delayMillis   number  ms (negative counts as 0)
  ARGV[5] countAttempt  "1"|"0" "0" gives the claim's attempt back (RetryIn)
  ARGV[6] error         string  AttemptError JSON text, appended as is ("" = none)
  ARGV[7] maxErrors     int     error lines kept

  Returns 1 moved, 0 lease not held (nothing changed).
  Codes: -1 the record is missing, -3 the record is malformed.
]]
--- @include "time"
--- @include "record"
--- @include "lease"
--- @include "errors"

local id = ARGV[2]
local m, code = endLease(KEYS[1], KEYS[2], KEYS[3], id, ARGV[3])
if not m then return code end
local now = nowMillis()
if ARGV[5] == "1" then
  redis.call("HINCRBY", KEYS[6], "failed", 1)
else
  m.attempt = m.attempt - 1
end
appendError(KEYS[4], id, ARGV[6], tonumber(ARGV[7]))
m.state = "t"
m.runAt = now + math.max(0, math.floor(tonumber(ARGV[4])))
redis.call("HSET", KEYS[3], id, encodeMeta(m))
redis.call("ZADD", KEYS[5], timeScore(m.runAt, takeSeq(KEYS[6], 1)), id)
redis.call("PUBLISH", ARGV[1], "retry")
return 1
