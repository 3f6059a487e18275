-- promote: due scheduled and retry jobs become ready, and when the next one is due (needs time, record).

-- Moves up to `max` jobs due at or before `now` from a time-ordered set to the tail of the
-- ready list, earliest first. Ids without a readable record are dropped from the set.
local function promoteDue(setKey, metaKey, readyKey, now, max)
  local ids = redis.call("ZRANGEBYSCORE", setKey, "-inf", dueBound(now), "LIMIT", 0, max)
  if #ids == 0 then return 0 end
  for i = 1, #ids do
    local id = ids[i]
    local m = decodeMeta(redis.call("HGET", metaKey, id))
    if m then
      m.state = "r"
      redis.call("HSET", metaKey, id, encodeMeta(m))
      redis.call("RPUSH", readyKey, id)
    end
  end
  redis.call("ZREM", setKey, unpack(ids))
  return #ids
end

-- The earliest due time (ms) of a job in these time-ordered sets, or -1 when they are empty.
local function earliestDue(scheduledKey, retryKey)
  local earliest = -1
  for _, key in ipairs({ scheduledKey, retryKey }) do
    local first = redis.call("ZRANGE", key, 0, 0, "WITHSCORES")
    if #first > 0 then
      local due = scoreMillis(first[2])
      if earliest < 0 or due < earliest then earliest = due end
    end
  end
  return earliest
end
