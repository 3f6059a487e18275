--[[
  get-4: the stored fields of jobs, read in one step. Reads only.

  KEYS[1] meta     hash  id -> record
  KEYS[2] payload  hash  id -> payload JSON text
  KEYS[3] errors   hash  id -> error lines
  KEYS[4] reason   hash  id -> why the job is dead

  ARGV    ids

  Returns four entries per id: record, payload, error lines, reason (each nil when absent).
  Codes: none.
]]
local out = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  out[#out + 1] = redis.call("HGET", KEYS[1], id)
  out[#out + 1] = redis.call("HGET", KEYS[2], id)
  out[#out + 1] = redis.call("HGET", KEYS[3], id)
  out[#out + 1] = redis.call("HGET", KEYS[4], id)
end
return out
