--[[
  list-5: a page of one queue's scheduled, retry or dead set. Reads only.

  KEYS[1] set      zset  the set, by due time or time of death
  KEYS[2] meta     hash  id -> record
  KEYS[3] payload  hash  id -> payload JSON text
  KEYS[4] errors   hash  id -> error lines
  KEYS[5] reason   hash  id -> why the job is dead

  ARGV[1] offset   int
  ARGV[2] limit    int     (>= 1)
  ARGV[3] reverse  "1"|"0" "1" = highest score first (dead: newest first)

  Returns {total, jobs}: jobs has six entries per job: id, score, record, payload, error
  lines, reason.
  Codes: none.
]]
--- @include "jobFields"

local offset = tonumber(ARGV[1])
local stop = offset + tonumber(ARGV[2]) - 1
local range
if ARGV[3] == "1" then
  range = redis.call("ZREVRANGE", KEYS[1], offset, stop, "WITHSCORES")
else
  range = redis.call("ZRANGE", KEYS[1], offset, stop, "WITHSCORES")
end
local jobs = {}
for i = 1, #range, 2 do
  local id = range[i]
  jobs[#jobs + 1] = id
  jobs[#jobs + 1] = range[i + 1]
  appendJobFields(jobs, id, KEYS[2], KEYS[3], KEYS[4], KEYS[5])
end
return { redis.call("ZCARD", KEYS[1]), jobs }
