--[[
  removeProcess-2: removes a worker process's registry entry (clean shutdown).

  KEYS[1] beats  zset  process id -> expiry, ms
  KEYS[2] info   hash  process id -> ProcessInfo JSON text

  ARGV[1] id  string

  Returns 1 when there was an entry, else 0.
  Codes: none.
]]
redis.call("HDEL", KEYS[2], ARGV[1])
return redis.call("ZREM", KEYS[1], ARGV[1])
