--[[
  discard-5: drops a job whose lease the caller holds (Job.Discard); no counter moves.

  KEYS[1] leases   zset  leased ids by deadline
  KEYS[2] token    hash  id -> lease token
  KEYS[3] meta     hash  id -> record
  KEYS[4] payload  hash  id -> payload JSON text
  KEYS[5] errors   hash  id -> error lines

  ARGV[1] id     string
  ARGV[2] token  string

  Returns 1 dropped, 0 lease not held (nothing changed).
  Codes: none.
]]
local id = ARGV[1]
if redis.call("HGET", KEYS[2], id) ~= ARGV[2] then return 0 end
redis.call("ZREM", KEYS[1], id)
redis.call("HDEL", KEYS[2], id)
redis.call("HDEL", KEYS[3], id)
redis.call("HDEL", KEYS[4], id)
redis.call("HDEL", KEYS[5], id)
return 1
