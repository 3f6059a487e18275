--[[
  promote-5: moves due scheduled and retry jobs to the tail of the ready list.

  KEYS[1] scheduled  zset  scheduled ids by due time
  KEYS[2] retry      zset  retry ids by due time
  KEYS[3] meta       hash  id -> record
  KEYS[4] ready      list  ready ids
  KEYS[5] quarantine hash id -> "<ms>|<reason>" for records this version cannot read

  ARGV[1] channel  string  wake channel
  ARGV[2] max      int     most jobs promoted per set in this call

  Returns the number of ids taken from the sets (made ready, or quarantined).
  Codes: none.
]]
--- @include "time"
--- @include "record"
--- @include "batch"
--- @include "quarantine"
--- @include "promote"

local now = nowMillis()
local max = tonumber(ARGV[2])
local moved = promoteDue(KEYS[1], KEYS[3], KEYS[4], KEYS[5], now, max)
  + promoteDue(KEYS[2], KEYS[3], KEYS[4], KEYS[5], now, max)
if moved > 0 then redis.call("PUBLISH", ARGV[1], "promote") end
return moved
