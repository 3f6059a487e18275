-- complete: completes jobs whose lease the caller holds (ack-7 and claim-11). Needs the
-- "time" and "record" includes first. By default a completed job is deleted and the queue's
-- `processed` counter keeps count. With retention on, the job is kept instead (state "c") in
-- the completed set, which is then trimmed to the newest `keepLast` jobs and to those
-- completed within `keepFor` ms, oldest first; the trimmed jobs are deleted.
--
-- ARGV from index `first`: retain ("1" keeps completed jobs, "" deletes them), keepLast
-- (-1 = no limit), keepFor ms (-1 = no limit), then id/token pairs.
-- Returns one integer per pair (1 completed, 0 lease not held: nothing changed), then the
-- ids the trim deleted; nil when the arguments are malformed.
local function completeJobs(leasesKey, tokensKey, metaKey, payloadKey, errorsKey, statsKey, completedKey, first)
  if #ARGV < first + 2 or (#ARGV - first - 2) % 2 ~= 0 then return nil end
  local retain = ARGV[first] == "1"
  local results = {}
  local settled = 0
  local now, seq
  for i = first + 3, #ARGV, 2 do
    local id = ARGV[i]
    if redis.call("HGET", tokensKey, id) == ARGV[i + 1] then
      redis.call("ZREM", leasesKey, id)
      redis.call("HDEL", tokensKey, id)
      local m = retain and decodeMeta(redis.call("HGET", metaKey, id))
      if m then
        if not now then
          now = nowMillis()
          seq = takeSeq(statsKey, (#ARGV - first - 2) / 2)
        end
        m.state = "c"
        redis.call("HSET", metaKey, id, encodeMeta(m))
        redis.call("ZADD", completedKey, timeScore(now, seq + settled), id)
      else
        redis.call("HDEL", metaKey, id)
        redis.call("HDEL", payloadKey, id)
        redis.call("HDEL", errorsKey, id)
      end
      settled = settled + 1
      results[#results + 1] = 1
    else
      results[#results + 1] = 0
    end
  end
  if settled > 0 then redis.call("HINCRBY", statsKey, "processed", settled) end
  if retain and now then
    local function forget(ids)
      if #ids == 0 then return end
      for _, trimmed in ipairs(ids) do results[#results + 1] = trimmed end
      redis.call("ZREM", completedKey, unpack(ids))
      redis.call("HDEL", metaKey, unpack(ids))
      redis.call("HDEL", payloadKey, unpack(ids))
      redis.call("HDEL", errorsKey, unpack(ids))
    end
    -- Older than keepFor: completed before now - keepFor (bounded per call to keep it short).
    local keepFor = tonumber(ARGV[first + 2])
    if keepFor >= 0 then
      forget(redis.call("ZRANGEBYSCORE", completedKey, "-inf",
        "(" .. string.format("%d", (now - keepFor) * SCALE), "LIMIT", 0, 1000))
    end
    local keepLast = tonumber(ARGV[first + 1])
    if keepLast >= 0 then
      local excess = redis.call("ZCARD", completedKey) - keepLast
      if excess > 0 then forget(redis.call("ZRANGE", completedKey, 0, math.min(excess, 1000) - 1)) end
    end
  end
  return results
end
