--[[
  ack-9: completes jobs whose lease the caller holds: deleted, or kept when retention is on
  (the rules are in includes/complete.lua).

  KEYS[1] leases     zset  leased ids by deadline
  KEYS[2] token      hash  id -> lease token
  KEYS[3] meta       hash  id -> record
  KEYS[4] payload    hash  id -> payload JSON text
  KEYS[5] errors     hash  id -> error lines
  KEYS[6] stats      hash  `processed` counter, `seq` tie-breaker
  KEYS[7] completed  zset  kept completed ids by completion time
  KEYS[8] replayA    hash  replay records, even periods (includes/replay.lua)
  KEYS[9] replayB    hash  replay records, odd periods

  ARGV[1] retain    string  "1": keep completed jobs, "" = delete them
  ARGV[2] keepLast  int     completed jobs kept in this queue (-1 = no limit)
  ARGV[3] keepFor   int     ms a completed job is kept (-1 = no limit)
  then pairs:
  ARGV[i]   id     string
  ARGV[i+1] token  string

  Returns one integer per pair (1 completed, 0 lease not held: nothing changed), then the
  ids deleted although retention is on (record missing, or trimmed).
  Codes: -2 malformed arguments.

  Running it twice answers the same: each completion is recorded for a while under its token
  (includes/replay.lua), and a lease found completed by that record answers 1 again.
]]
--- @include "time"
--- @include "record"
--- @include "batch"
--- @include "replay"
--- @include "complete"

local now = nowMillis()
local records = {}
local results = completeJobs(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], now, 1, 4,
  records)
if not results then return -2 end
recordReplay(KEYS[8], KEYS[9], now, records)
return results
