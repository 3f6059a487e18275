--[[
  retryNow-4: moves jobs of a scheduled, retry or dead set to the tail of the ready list now;
  dead jobs get their attempts reset.

  KEYS[1] set     zset  the set the jobs must be in
  KEYS[2] meta    hash  id -> record
  KEYS[3] ready   list  ready ids
  KEYS[4] reason  hash  id -> why the job is dead

  ARGV[1] channel  string  wake channel
  ARGV[2] state    string  the set's state letter: "s" scheduled, "t" retry, "x" dead
  ARGV[3..] ids

  Returns the ids moved (ids not in the set are skipped).
  Codes: none.
]]
--- @include "time"
--- @include "record"

local now = nowMillis()
local moved = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call("ZSCORE", KEYS[1], id) then
    local m = decodeMeta(redis.call("HGET", KEYS[2], id))
    if m and m.state == ARGV[2] then
      redis.call("ZREM", KEYS[1], id)
      if m.state == "x" then
        m.attempt = 0
        m.diedAt = 0
        redis.call("HDEL", KEYS[4], id)
      end
      m.state = "r"
      m.runAt = now
      redis.call("HSET", KEYS[2], id, encodeMeta(m))
      redis.call("RPUSH", KEYS[3], id)
      moved[#moved + 1] = id
    end
  end
end
if #moved > 0 then redis.call("PUBLISH", ARGV[1], "retryNow") end
return moved
