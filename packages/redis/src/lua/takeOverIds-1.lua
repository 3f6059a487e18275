--[[
  takeOverIds-1: moves ids recorded for a queue that no longer holds their job (a crash
  between steps, or a settlement whose forgetIds has not run yet) to another queue, if the
  record is still the one the caller checked.

  KEYS[1] ids  hash  job id -> queue

  ARGV[1]    queue  string  the queue taking the ids
  then pairs:
  ARGV[i]    id     string
  ARGV[i+1]  from   string  the queue the caller found recorded, and found without the job

  Returns one integer per pair: 1 taken over (also when the record was freed meanwhile), 0 the
  record now names yet another queue (left alone).
  Codes: -2 malformed arguments.
]]
if #ARGV % 2 ~= 1 then return -2 end
local out = {}
for i = 2, #ARGV, 2 do
  local current = redis.call("HGET", KEYS[1], ARGV[i])
  if not current or current == ARGV[i + 1] then
    redis.call("HSET", KEYS[1], ARGV[i], ARGV[1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
