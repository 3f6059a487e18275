-- replay: a short-lived record of what transitions answered, so a replay (a call whose reply
-- was lost, run again by the client with the same arguments, or resent by a Cluster client
-- after MOVED or a closed connection) answers as the first run did instead of acting twice or
-- answering "not held". Needs the "time" include first.
--
-- Two hashes per queue take turns by period of Redis time: the one named by the current
-- period's parity takes the new records, and is emptied first when it still holds an older
-- period's (field "@gen"). A record therefore lives one to two periods, and a hash past
-- REPLAY_CAP fields is started afresh: the records cannot grow without bound.
-- Fields: a lease token (settlements: what became of that lease) or "@" and a call's nonce
-- (claims and enqueues: the call's answer). Tokens start with a queue name, which has no "@".
local REPLAY_PERIOD = 60000
local REPLAY_CAP = 200000

-- The value recorded for `field` within the last two periods, or nil.
local function replayed(keyA, keyB, field, now)
  local gen = math.floor(now / REPLAY_PERIOD)
  for _, key in ipairs({ keyA, keyB }) do
    local values = redis.call("HMGET", key, "@gen", field)
    if values[2] and (tonumber(values[1]) or -2) >= gen - 1 then return values[2] end
  end
  return nil
end

-- Records field/value entries (a flat list) in the current period's hash.
local function recordReplay(keyA, keyB, now, entries)
  if #entries == 0 then return end
  local gen = math.floor(now / REPLAY_PERIOD)
  local key = gen % 2 == 0 and keyA or keyB
  local genText = string.format("%d", gen)
  if redis.call("HGET", key, "@gen") ~= genText or redis.call("HLEN", key) > REPLAY_CAP then
    redis.call("UNLINK", key)
    redis.call("HSET", key, "@gen", genText)
  end
  for first = 1, #entries, 1000 do
    redis.call("HSET", key, unpack(entries, first, math.min(#entries, first + 999)))
  end
end
