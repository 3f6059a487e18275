--[[
  forgetIds-1: the last step of every deletion (ack, discard, remove, dead-set trim): frees
  the ids of jobs a queue no longer holds.

  KEYS[1] ids  hash  job id -> "<queue>@<reserved at, ms>"

  ARGV[1]    queue  string  the queue that deleted the jobs
  ARGV[2..]  ids

  Returns how many ids were freed. An id recorded for another queue meanwhile is left alone.
  Codes: none.
]]
local freed = 0
for i = 2, #ARGV do
  local recorded = redis.call("HGET", KEYS[1], ARGV[i])
  if recorded and (recorded == ARGV[1] or string.sub(recorded, 1, #ARGV[1] + 1) == ARGV[1] .. "@") then
    redis.call("HDEL", KEYS[1], ARGV[i])
    freed = freed + 1
  end
end
return freed
