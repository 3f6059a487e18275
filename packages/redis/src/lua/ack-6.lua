--[[
  ack-6: completes jobs whose lease the caller holds. A completed job is deleted; the
  queue's `processed` counter keeps count.

  KEYS[1] leases   zset  leased ids by deadline
  KEYS[2] token    hash  id -> lease token
  KEYS[3] meta     hash  id -> record
  KEYS[4] payload  hash  id -> payload JSON text
  KEYS[5] errors   hash  id -> error lines
  KEYS[6] stats    hash  `processed` counter

  ARGV pairs:
  ARGV[i]   id     string
  ARGV[i+1] token  string

  Returns one integer per pair: 1 completed, 0 lease not held (nothing changed).
  Codes: -2 malformed arguments.

  Running it twice completes nothing the second time: the tokens are gone.
]]
if #ARGV % 2 ~= 0 then return -2 end
local results = {}
local settled = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call("HGET", KEYS[2], id) == ARGV[i + 1] then
    redis.call("ZREM", KEYS[1], id)
    redis.call("HDEL", KEYS[2], id)
    redis.call("HDEL", KEYS[3], id)
    redis.call("HDEL", KEYS[4], id)
    redis.call("HDEL", KEYS[5], id)
    settled = settled + 1
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
end
if settled > 0 then redis.call("HINCRBY", KEYS[6], "processed", settled) end
return results
