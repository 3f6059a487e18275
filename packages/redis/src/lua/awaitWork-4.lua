--[[
  awaitWork-4: what an idle worker needs to know before it sleeps: is anything ready, and
  when is the next job due. Reads only.

  KEYS[1] ready      list    ready ids
  KEYS[2] scheduled  zset    scheduled ids by due time
  KEYS[3] retry      zset    retry ids by due time
  KEYS[4] paused     string  present while the queue is paused

  Returns {now, ready, nextDue}
    now      int  Redis time, ms
    ready    int  ready jobs (0 while paused)
    nextDue  int  earliest due time of a scheduled or retry job, ms; -1 when none or paused
  Codes: none.
]]
--- @include "time"
--- @include "record"
--- @include "batch"
--- @include "quarantine"
--- @include "promote"

local now = nowMillis()
if redis.call("EXISTS", KEYS[4]) == 1 then return { now, 0, -1 } end
return { now, redis.call("LLEN", KEYS[1]), earliestDue(KEYS[2], KEYS[3]) }
