--[[
  retry-8: moves jobs whose lease the caller holds to the retry set, each due its
  `delayMillis` after Redis's now. Concurrent retries of one queue share one call.

  KEYS[1] leases  zset  leased ids by deadline
  KEYS[2] token   hash  id -> lease token
  KEYS[3] meta    hash  id -> record
  KEYS[4] errors  hash  id -> error lines
  KEYS[5] retry   zset  retry ids by due time
  KEYS[6] stats   hash  `failed` counter, `seq` tie-breaker
  KEYS[7] replayA hash  replay records, even periods (includes/replay.lua)
  KEYS[8] replayB hash  replay records, odd periods

  ARGV[1] channel    string  wake channel
  ARGV[2] maxErrors  int     error lines kept
  ARGV[3] maxErrorBytes int  bytes of error lines kept (older lines dropped first, counted)
  then for each job, five entries:
  ARGV[i]   id            string
  ARGV[i+1] token         string
  ARGV[i+2] delayMillis   number  ms (negative counts as 0)
  ARGV[i+3] countAttempt  "1"|"0" "0" gives the claim's attempt back (RetryIn)
  ARGV[i+4] error         string  AttemptError JSON text, appended as is ("" = none)

  Returns one integer per job: 1 moved, 0 lease not held (nothing changed), -1 the record is
  missing, -3 the record is malformed.
  Codes: -2 malformed arguments.

  Running it twice answers the same and moves nothing more: each move is recorded for a while
  under its token, and a lease found moved by that record answers 1 again.
]]
--- @include "time"
--- @include "record"
--- @include "replay"
--- @include "lease"
--- @include "errors"

local n = (#ARGV - 3) / 5
if n < 1 or n ~= math.floor(n) then return -2 end
local maxErrors = tonumber(ARGV[2])
local maxErrorBytes = tonumber(ARGV[3])
local results = {}
local now = nowMillis()
local seq
local failed = 0
local moved = false
local records = {}
for i = 0, n - 1 do
  local at = 4 + i * 5
  local id = ARGV[at]
  local m, code = endLease(KEYS[1], KEYS[2], KEYS[3], id, ARGV[at + 1])
  if not m then
    if code == 0 and settledBefore(KEYS[7], KEYS[8], ARGV[at + 1], now, "t") then code = 1 end
    results[i + 1] = code
  else
    if not seq then seq = takeSeq(KEYS[6], n) end
    records[#records + 1] = ARGV[at + 1]
    records[#records + 1] = "t"
    if ARGV[at + 3] == "1" then
      failed = failed + 1
    else
      m.attempt = m.attempt - 1
    end
    appendError(KEYS[4], id, ARGV[at + 4], maxErrors, maxErrorBytes)
    m.state = "t"
    m.runAt = now + math.max(0, math.floor(tonumber(ARGV[at + 2])))
    redis.call("HSET", KEYS[3], id, encodeMeta(m))
    redis.call("ZADD", KEYS[5], timeScore(m.runAt, seq + i), id)
    moved = true
    results[i + 1] = 1
  end
end
recordReplay(KEYS[7], KEYS[8], now, records)
if failed > 0 then redis.call("HINCRBY", KEYS[6], "failed", failed) end
if moved then redis.call("PUBLISH", ARGV[1], "retry") end
return results
