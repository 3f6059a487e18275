-- time: Redis's own clock, and the scores of time-ordered sets.

-- Epoch milliseconds on Redis's clock: the one clock every due time is judged by.
local function nowMillis()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Time-ordered sets keep jobs due in the same millisecond in write order:
-- score = millis * 1024 + (seq mod 1024), exact in a double until the year 2248.
local SCALE = 1024

local function timeScore(millis, seq)
  return string.format("%d", millis * SCALE + (seq % SCALE))
end

-- The highest score of a job due at or before `millis`.
local function dueBound(millis)
  return string.format("%d", millis * SCALE + SCALE - 1)
end

-- The time in milliseconds a score stands for.
local function scoreMillis(score)
  return math.floor(tonumber(score) / SCALE)
end

-- Reserves `n` sequence numbers from the queue's counter; returns the first one.
local function takeSeq(statsKey, n)
  return redis.call("HINCRBY", statsKey, "seq", n) - n
end
