-- lease: ends the lease a settlement holds. Needs the "record" include first.
-- Returns the job's decoded meta when `token` holds the lease of `id` (the lease and its
-- token are then removed), or nil and the code for the script to return:
-- 0 lease not held (nothing changed), -1 record missing, -3 record malformed.
local function endLease(leasesKey, tokensKey, metaKey, id, token)
  if redis.call("HGET", tokensKey, id) ~= token then return nil, 0 end
  local meta = redis.call("HGET", metaKey, id)
  if not meta then return nil, -1 end
  local m = decodeMeta(meta)
  if not m then return nil, -3 end
  redis.call("ZREM", leasesKey, id)
  redis.call("HDEL", tokensKey, id)
  return m
end

-- The record an earlier run of a settlement left under `token` when it ended the lease with
-- `outcome` (a letter: "t" retry, "x" kill, "d" discard, "r" requeue), or nil: a replay whose
-- first reply was lost answers as that run did. Needs the "replay" include first.
local function settledBefore(replayA, replayB, token, now, outcome)
  local recorded = replayed(replayA, replayB, token, now)
  if recorded and string.sub(recorded, 1, 1) == outcome then return recorded end
  return nil
end
