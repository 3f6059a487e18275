-- promote: due scheduled and retry jobs become ready, and when the next one is due (needs time, record, batch, quarantine).

-- Moves up to `max` jobs due at or before `now` from a time-ordered set to the tail of the
-- ready list, earliest first, with one command per step in pieces (needs batch: `max` may be
-- past the ~8,000 values Lua's unpack can pass). An id whose record this version cannot read
-- leaves the set for the quarantine, its record kept.
local function promoteDue(setKey, metaKey, readyKey, quarantineKey, now, max)
  local ids = redis.call("ZRANGEBYSCORE", setKey, "-inf", dueBound(now), "LIMIT", 0, max)
  if #ids == 0 then return 0 end
  local metas = hmgetEach(metaKey, ids)
  local metaArgs, ready = {}, {}
  for i, id in ipairs(ids) do
    local m = decodeMeta(metas[i])
    if m then
      m.state = "r"
      metaArgs[#metaArgs + 1] = id
      metaArgs[#metaArgs + 1] = encodeMeta(m)
      ready[#ready + 1] = id
    else
      quarantine(quarantineKey, now, id, metas[i])
    end
  end
  callEach("HSET", metaKey, metaArgs)
  callEach("RPUSH", readyKey, ready)
  callEach("ZREM", setKey, ids)
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
