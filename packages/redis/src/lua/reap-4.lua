--[[
  reap-4: puts jobs whose lease ran out back at the head of their queue; the attempt stays
  counted (the job may have killed its process).

  KEYS[1] leases  zset  leased ids by deadline
  KEYS[2] token   hash  id -> lease token
  KEYS[3] meta    hash  id -> record
  KEYS[4] ready   list  ready ids

  ARGV[1] channel  string  wake channel
  ARGV[2] max      int     most leases reaped in this call

  Returns the number of jobs put back.
  Codes: none.
]]
--- @include "time"
--- @include "record"

local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", nowMillis(), "LIMIT", 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call("ZREM", KEYS[1], id)
  redis.call("HDEL", KEYS[2], id)
  local m = decodeMeta(redis.call("HGET", KEYS[3], id))
  if m then
    m.state = "r"
    redis.call("HSET", KEYS[3], id, encodeMeta(m))
    redis.call("LPUSH", KEYS[4], id)
  end
end
if #ids > 0 then redis.call("PUBLISH", ARGV[1], "reap") end
return #ids
