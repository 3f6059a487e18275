--[[
  enqueue-7: writes new jobs to one queue; an id the queue already holds is left alone.

  KEYS[1] meta       hash    id -> record
  KEYS[2] payload    hash    id -> payload JSON text
  KEYS[3] ready      list    ready ids
  KEYS[4] scheduled  zset    scheduled ids by due time
  KEYS[5] stats      hash    `seq` tie-breaker
  KEYS[6] replayA    hash    replay records, even periods (includes/replay.lua)
  KEYS[7] replayB    hash    replay records, odd periods

  ARGV[1]            string  wake channel
  ARGV[2]            string  this call's nonce: a run of the same call answers as the first
  then for each job, six entries:
  ARGV[i]   id           string
  ARGV[i+1] name         string
  ARGV[i+2] payload      string  JSON text, stored as is
  ARGV[i+3] delayMillis  number  ms after Redis's now ("" = 0)
  ARGV[i+4] runAtMillis  number  epoch ms, wins over delayMillis ("" = none)
  ARGV[i+5] indexed      string  "1": the caller chose the id and it is in the id index, so
                                 the job's deletion must free it ("" = a generated id)

  Returns one string with a letter per job, in order: "e" enqueued, "s" scheduled, "d" duplicate
  (one short reply instead of one string per job).
  Codes: -2 malformed arguments.

  Running it twice (same nonce: the client's own retry after a lost reply, or a resend after
  reconnect) writes nothing the second time and answers what the first run answered (not
  "duplicate" for the jobs it wrote itself).
]]
--- @include "time"
--- @include "record"
--- @include "batch"
--- @include "replay"

local n = (#ARGV - 2) / 6
if n ~= math.floor(n) then return -2 end
local now = nowMillis()
local nonceField = "@" .. ARGV[2]
local first = replayed(KEYS[6], KEYS[7], nonceField, now)
if first then return first end
local seq = takeSeq(KEYS[5], n)
local outcomes = {}
-- The writes are gathered and made with one command per key (a call per job costs more).
local payloads, metas, ready, scheduled = {}, {}, {}, {}
local fresh = {}
for i = 0, n - 1 do
  local at = 3 + i * 6
  local id = ARGV[at]
  -- An id written earlier in this call is a duplicate too.
  if fresh[id] or redis.call("HEXISTS", KEYS[1], id) == 1 then
    outcomes[i + 1] = "d"
  else
    fresh[id] = true
    local runAt
    if ARGV[at + 4] ~= "" then
      runAt = math.floor(tonumber(ARGV[at + 4]))
    else
      runAt = now + math.floor(tonumber(ARGV[at + 3]) or 0)
    end
    local m = {
      state = "r", attempt = 0, claims = 0, enqueuedAt = now, runAt = now, diedAt = 0, name = ARGV[at + 1],
      indexed = ARGV[at + 5] == "1"
    }
    payloads[#payloads + 1] = id
    payloads[#payloads + 1] = ARGV[at + 2]
    if runAt > now then
      m.state = "s"
      m.runAt = runAt
      scheduled[#scheduled + 1] = timeScore(runAt, seq + i)
      scheduled[#scheduled + 1] = id
      outcomes[i + 1] = "s"
    else
      ready[#ready + 1] = id
      outcomes[i + 1] = "e"
    end
    metas[#metas + 1] = id
    metas[#metas + 1] = encodeMeta(m)
  end
end

if #metas > 0 then
  callEach("HSET", KEYS[2], payloads)
  callEach("ZADD", KEYS[4], scheduled)
  callEach("RPUSH", KEYS[3], ready)
  callEach("HSET", KEYS[1], metas)
  -- A scheduled job may be the earliest due time a sleeping worker must wake for.
  redis.call("PUBLISH", ARGV[1], "enqueue")
end
local answer = table.concat(outcomes)
recordReplay(KEYS[6], KEYS[7], now, { nonceField, answer })
return answer
