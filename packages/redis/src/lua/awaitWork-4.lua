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

local now = nowMillis()
if redis.call("EXISTS", KEYS[4]) == 1 then return { now, 0, -1 } end
local nextDue = -1
for k = 2, 3 do
  local first = redis.call("ZRANGE", KEYS[k], 0, 0, "WITHSCORES")
  if #first > 0 then
    local due = scoreMillis(first[2])
    if nextDue < 0 or due < nextDue then nextDue = due end
  end
end
return { now, redis.call("LLEN", KEYS[1]), nextDue }
