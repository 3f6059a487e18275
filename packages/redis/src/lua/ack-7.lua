--[[
  ack-7: completes jobs whose lease the caller holds. By default a completed job is deleted;
  the queue's `processed` counter keeps count. With retention on, the job is kept instead
  (state "c") in the completed set, which is then trimmed to the newest `keepLast` jobs and
  to those completed within `keepFor` ms, oldest first; the trimmed jobs are deleted.

  KEYS[1] leases     zset  leased ids by deadline
  KEYS[2] token      hash  id -> lease token
  KEYS[3] meta       hash  id -> record
  KEYS[4] payload    hash  id -> payload JSON text
  KEYS[5] errors     hash  id -> error lines
  KEYS[6] stats      hash  `processed` counter, `seq` tie-breaker
  KEYS[7] completed  zset  kept completed ids by completion time

  ARGV[1] retain    string  "1": keep completed jobs, "" = delete them
  ARGV[2] keepLast  int     completed jobs kept in this queue (-1 = no limit)
  ARGV[3] keepFor   int     ms a completed job is kept (-1 = no limit)
  then pairs:
  ARGV[i]   id     string
  ARGV[i+1] token  string

  Returns one integer per pair (1 completed, 0 lease not held: nothing changed), then the
  ids the trim deleted.
  Codes: -2 malformed arguments.

  Running it twice completes nothing the second time: the tokens are gone.
]]
--- @include "time"
--- @include "record"

if #ARGV < 3 or (#ARGV - 3) % 2 ~= 0 then return -2 end
local retain = ARGV[1] == "1"
local results = {}
local settled = 0
local now, seq
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call("HGET", KEYS[2], id) == ARGV[i + 1] then
    redis.call("ZREM", KEYS[1], id)
    redis.call("HDEL", KEYS[2], id)
    local m = retain and decodeMeta(redis.call("HGET", KEYS[3], id))
    if m then
      if not now then
        now = nowMillis()
        seq = takeSeq(KEYS[6], (#ARGV - 3) / 2)
      end
      m.state = "c"
      redis.call("HSET", KEYS[3], id, encodeMeta(m))
      redis.call("ZADD", KEYS[7], timeScore(now, seq + settled), id)
    else
      redis.call("HDEL", KEYS[3], id)
      redis.call("HDEL", KEYS[4], id)
      redis.call("HDEL", KEYS[5], id)
    end
    settled = settled + 1
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
end
if settled > 0 then redis.call("HINCRBY", KEYS[6], "processed", settled) end
if retain and now then
  local function forget(ids)
    if #ids == 0 then return end
    for _, trimmed in ipairs(ids) do results[#results + 1] = trimmed end
    redis.call("ZREM", KEYS[7], unpack(ids))
    redis.call("HDEL", KEYS[3], unpack(ids))
    redis.call("HDEL", KEYS[4], unpack(ids))
    redis.call("HDEL", KEYS[5], unpack(ids))
  end
  -- Older than keepFor: completed before now - keepFor (bounded per call to keep it short).
  local keepFor = tonumber(ARGV[3])
  if keepFor >= 0 then
    forget(redis.call("ZRANGEBYSCORE", KEYS[7], "-inf",
      "(" .. string.format("%d", (now - keepFor) * SCALE), "LIMIT", 0, 1000))
  end
  local keepLast = tonumber(ARGV[2])
  if keepLast >= 0 then
    local excess = redis.call("ZCARD", KEYS[7]) - keepLast
    if excess > 0 then forget(redis.call("ZRANGE", KEYS[7], 0, math.min(excess, 1000) - 1)) end
  end
end
return results
