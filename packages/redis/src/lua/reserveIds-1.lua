--[[
  reserveIds-1: the first step of enqueue: records which queue each new job id belongs to,
  so an id is unique across queues although each queue lives in its own slot.

  KEYS[1] ids  hash  job id -> queue

  ARGV[1]    queue  string  the queue the jobs are for
  ARGV[2..]  ids

  Returns one string per id: "" when the id was free and is now this queue's, else the queue
  the id is recorded for (this queue: its enqueue script decides; another queue: the caller
  checks that queue still holds the job, and takes the id over with takeOverIds if not).
  Codes: none.

  Running it twice is harmless: the second run finds this queue's own records.
]]
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local queue = redis.call("HGET", KEYS[1], id)
  if queue then
    out[#out + 1] = queue
  else
    redis.call("HSET", KEYS[1], id, ARGV[1])
    out[#out + 1] = ""
  end
end
return out
