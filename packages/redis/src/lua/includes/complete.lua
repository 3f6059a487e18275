-- complete: completes jobs whose lease the caller holds (ack-9 and claim-13). Needs the
-- "time", "record", "batch" and "replay" includes first. By default a completed job is deleted and the queue's
-- `processed` counter keeps count. With retention on, the job is kept instead (state "c") in
-- the completed set, which is then trimmed to the newest `keepLast` jobs and to those
-- completed within `keepFor` ms, oldest first; the trimmed jobs are deleted.
--
-- ARGV from index `first`: retain ("1" keeps completed jobs, "" deletes them), keepLast
-- (-1 = no limit), keepFor ms (-1 = no limit); id/token pairs from index `pairsFrom`.
-- Returns one integer per pair (1 completed, now or by an earlier run of the same ack whose
-- reply was lost; 0 lease not held: nothing changed), then the ids deleted instead of kept
-- (record missing, or trimmed); nil when the arguments are malformed. Appends the replay
-- records of the completions to `records` (token, "c"), for the caller to record with its own.
local function completeJobs(leasesKey, tokensKey, metaKey, payloadKey, errorsKey, statsKey, completedKey,
                            replayA, replayB, now, first, pairsFrom, records)
  if #ARGV < pairsFrom - 1 or (#ARGV - pairsFrom + 1) % 2 ~= 0 then return nil end
  local retain = ARGV[first] == "1"
  local results = {}
  local n = (#ARGV - pairsFrom + 1) / 2
  if n == 0 then return results end
  -- One command per step for the whole batch, not one per job: the calls are the cost.
  local ids = {}
  for k = 1, n do ids[k] = ARGV[pairsFrom + 2 * k - 2] end
  local current = hmgetEach(tokensKey, ids)
  local held = {}
  local seen = {}
  for k = 1, n do
    local id = ids[k]
    local token = ARGV[pairsFrom + 2 * k - 1]
    if seen[id] then
      -- The same lease twice in one batch completes once and answers twice, as two calls would.
      results[k] = seen[id] == token and 1 or 0
    elseif current[k] == token then
      seen[id] = token
      held[#held + 1] = id
      records[#records + 1] = token
      records[#records + 1] = "c"
      results[k] = 1
    elseif replayed(replayA, replayB, token, now) == "c" then
      -- Completed by an earlier run of this ack: answered as that run was.
      seen[id] = token
      results[k] = 1
    else
      results[k] = 0
    end
  end
  if #held == 0 then return results end
  callEach("ZREM", leasesKey, held)
  callEach("HDEL", tokensKey, held)
  redis.call("HINCRBY", statsKey, "processed", #held)
  if not retain then
    deleteRecords(metaKey, payloadKey, errorsKey, held)
    return results
  end
  local seq = takeSeq(statsKey, #held)
  local metas = hmgetEach(metaKey, held)
  local metaArgs, completedArgs, gone = {}, {}, {}
  for k, id in ipairs(held) do
    local m = decodeMeta(metas[k])
    if m then
      m.state = "c"
      metaArgs[#metaArgs + 1] = id
      metaArgs[#metaArgs + 1] = encodeMeta(m)
      completedArgs[#completedArgs + 1] = timeScore(now, seq + k - 1)
      completedArgs[#completedArgs + 1] = id
    else
      gone[#gone + 1] = id
    end
  end
  if #metaArgs > 0 then
    callEach("HSET", metaKey, metaArgs)
    callEach("ZADD", completedKey, completedArgs)
  end
  if #gone > 0 then
    deleteRecords(metaKey, payloadKey, errorsKey, gone)
    -- Deleted, not kept: the caller frees their ids like the trimmed ones.
    for _, id in ipairs(gone) do results[#results + 1] = id end
  end
  local function forget(trimmed)
    if #trimmed == 0 then return end
    for _, id in ipairs(trimmed) do results[#results + 1] = id end
    callEach("ZREM", completedKey, trimmed)
    deleteRecords(metaKey, payloadKey, errorsKey, trimmed)
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
  return results
end
