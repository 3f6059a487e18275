--[[
  listQueue-5: a page of one queue's ready jobs, head first. Reads only.

  KEYS[1] ready    list  ready ids, head first
  KEYS[2] meta     hash  id -> record
  KEYS[3] payload  hash  id -> payload JSON text
  KEYS[4] errors   hash  id -> error lines
  KEYS[5] reason   hash  id -> why the job is dead

  ARGV[1] offset  int
  ARGV[2] limit   int  (>= 1)

  Returns {total, jobs}: jobs has five entries per job: id, record, payload, error lines, reason.
  Codes: none.
]]
--- @include "jobFields"

local offset = tonumber(ARGV[1])
local ids = redis.call("LRANGE", KEYS[1], offset, offset + tonumber(ARGV[2]) - 1)
local jobs = {}
for _, id in ipairs(ids) do
  jobs[#jobs + 1] = id
  appendJobFields(jobs, id, KEYS[2], KEYS[3], KEYS[4], KEYS[5])
end
return { redis.call("LLEN", KEYS[1]), jobs }
