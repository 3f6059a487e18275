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
--- @include "jobFields"

local out = {}
for i = 1, #ARGV do
  appendJobFields(out, ARGV[i], KEYS[1], KEYS[2], KEYS[3], KEYS[4])
end
return out
