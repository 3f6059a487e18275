--[[
  remove-5: deletes jobs of a scheduled, retry or dead set.

  KEYS[1] set      zset  the set the jobs must be in
  KEYS[2] meta     hash  id -> record
  KEYS[3] payload  hash  id -> payload JSON text
  KEYS[4] errors   hash  id -> error lines
  KEYS[5] reason   hash  id -> why the job is dead

  ARGV    ids

  Returns the ids deleted (ids not in the set are skipped).
  Codes: none.
]]
local removed = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  if redis.call("ZREM", KEYS[1], id) == 1 then
    redis.call("HDEL", KEYS[2], id)
    redis.call("HDEL", KEYS[3], id)
    redis.call("HDEL", KEYS[4], id)
    redis.call("HDEL", KEYS[5], id)
    removed[#removed + 1] = id
  end
end
return removed
