--[[
  reserveIds-1: the first step of enqueue: records which queue each new job id belongs to,
  so an id is unique across queues although each queue lives in its own slot.

  KEYS[1] ids  hash  job id -> "<queue>@<reserved at, ms>"

  ARGV[1]    queue  string  the queue the jobs are for
  ARGV[2]    grace  int     ms a reservation of another queue is left alone, whether or not
                            that queue holds the job yet: its enqueue may still be on its way
  ARGV[3..]  ids

  Returns one string per id:
    ""                  the id is this queue's now (it was free, or already this queue's: the
                        time is renewed); the queue's enqueue script decides
    "=<recorded value>" another queue's reservation older than the grace: the caller checks
                        that queue still holds the job, and takes the id over with
                        takeOverIds (passing this value) if not
    "!<queue>"          another queue's reservation within the grace: a duplicate
  Codes: none.

  Running it twice is harmless: the second run finds this queue's own records.
]]
--- @include "time"

local now = nowMillis()
local grace = tonumber(ARGV[2])
local mine = ARGV[1] .. "@" .. string.format("%d", now)
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local recorded = redis.call("HGET", KEYS[1], id)
  local queue, at
  if recorded then
    queue, at = string.match(recorded, "^(.-)@(%d+)$")
    -- An entry written before reservations carried a time counts as old.
    if not queue then queue, at = recorded, "0" end
  end
  if not recorded or queue == ARGV[1] then
    redis.call("HSET", KEYS[1], id, mine)
    out[#out + 1] = ""
  elseif now - tonumber(at) >= grace then
    out[#out + 1] = "=" .. recorded
  else
    out[#out + 1] = "!" .. queue
  end
end
return out
