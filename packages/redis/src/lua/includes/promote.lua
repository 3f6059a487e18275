-- promote: due scheduled and retry jobs become ready (needs time, record).

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
