--[[
  reap-5: puts jobs whose lease ran out back at the head of their queue; the attempt stays
  counted (the job may have killed its process).

  KEYS[1] leases  zset  leased ids by deadline
  KEYS[2] token   hash  id -> lease token
  KEYS[3] meta    hash  id -> record
  KEYS[4] ready   list  ready ids
  KEYS[5] quarantine hash id -> "<ms>|<reason>" for records this version cannot read

  ARGV[1] channel  string  wake channel
  ARGV[2] max      int     most leases reaped in this call

  Returns the number of jobs put back. A lease whose record this version cannot read goes to
  the quarantine instead (record kept), and is not counted.
  Codes: none.
]]
--- @include "time"
--- @include "record"
--- @include "quarantine"

local now = nowMillis()
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now, "LIMIT", 0, tonumber(ARGV[2]))
local requeued = 0
for _, id in ipairs(ids) do
  redis.call("ZREM", KEYS[1], id)
  redis.call("HDEL", KEYS[2], id)
  local text = redis.call("HGET", KEYS[3], id)
  local m = decodeMeta(text)
  if m then
    m.state = "r"
    redis.call("HSET", KEYS[3], id, encodeMeta(m))
    redis.call("LPUSH", KEYS[4], id)
    requeued = requeued + 1
  else
    quarantine(KEYS[5], now, id, text)
  end
end
if requeued > 0 then redis.call("PUBLISH", ARGV[1], "reap") end
return requeued
