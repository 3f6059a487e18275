--[[
  claim-14: completes the jobs the caller acks (as ack-9 does), promotes due scheduled and
  retry jobs, then leases up to `limit` ready jobs to `owner`, counting one attempt each.
  A worker refills the slots its finished jobs freed in the call that completes them.

  KEYS[1] ready      list    ready ids, head first
  KEYS[2] scheduled  zset    scheduled ids by due time
  KEYS[3] retry      zset    retry ids by due time
  KEYS[4] leases     zset    leased ids by deadline (ms)
  KEYS[5] meta       hash    id -> record
  KEYS[6] payload    hash    id -> payload JSON text
  KEYS[7] token      hash    id -> lease token
  KEYS[8] errors     hash    id -> error lines
  KEYS[9] paused     string  present while the queue is paused
  KEYS[10] stats     hash    `claims` sequence: every lease token is new, even for a
                             re-enqueued id, so a stale holder can never settle a later run;
                             `processed` counter, `seq` tie-breaker
  KEYS[11] completed  zset   kept completed ids by completion time (retention)
  KEYS[12] replayA   hash    replay records, even periods (includes/replay.lua)
  KEYS[13] replayB   hash    replay records, odd periods
  KEYS[14] quarantine hash   id -> "<ms>|<reason>" for records this version cannot read

  ARGV[1] limit        int     most jobs to lease (>= 0)
  ARGV[2] owner        string  the claiming process
  ARGV[3] leaseMillis  int     lease length in ms
  ARGV[4] promoteMax   int     most jobs promoted per set in this call
  ARGV[5] queue        string  the queue's name, first part of every token
                               (tokens are "<queue>|<owner>:<sequence>", with a "+" after
                               it when the job's id is in the id index: the settlement
                               that deletes the job frees the id)
  ARGV[6] retain       string  "1": keep completed jobs, "" = delete them
  ARGV[7] keepLast     int     completed jobs kept in this queue (-1 = no limit)
  ARGV[8] keepFor      int     ms a completed job is kept (-1 = no limit)
  ARGV[9] nonce        string  this call's own random text: a run of the same call (a replay
                               after a lost reply) answers with the leases the first run took
  ARGV[10] maxBytes    int     the jobs leased stop once their payloads and error lines pass
                               this many bytes (at least one job is leased; 0 = no cap), so a
                               reply stays small enough to arrive within the command timeout
  then pairs to ack first (none for a plain claim):
  ARGV[i]   id     string
  ARGV[i+1] token  string

  Returns {now, deadline, promoted, jobs, looseJobs, dropped, acked, ackDeleted, nextDue}
    now        int     Redis time, ms
    deadline   int     lease deadline of every job leased, ms
    promoted   int     jobs moved from scheduled/retry to ready
    jobs       string  five fields per job, every field followed by a NUL byte: id, token,
                       record, payload, error lines ("" when none). One reply element for
                       the whole batch: a client decodes elements one at a time, and five
                       per job cost it more than the rest of the claim (ioredis: 2 µs a job)
    looseJobs  array   the same five fields per job, one element each, for the jobs that
                       have a NUL byte inside a field (a caller's id or a hand-written
                       payload) and so cannot be packed
    dropped    array   ids found in the ready list without a record this version reads: set
                       aside in the quarantine, their record, payload and errors kept
    acked      string  one character per pair: "1" completed, "0" lease not held
    ackDeleted array   ids deleted although retention is on (record missing, or trimmed)
    nextDue   int    when the ready list ran dry (fewer than `limit` > 0 ids popped) or the
                     queue is paused: the earliest due time of a scheduled or retry job, ms
                     (-1 when none or paused), so an idle worker knows how long to sleep
                     without asking again; -2 otherwise (not looked up)
  Codes: -2 malformed arguments.

  A paused queue still promotes but leases nothing. Running it twice (same nonce) answers the
  leases of the first run that are still held, reads their records again and counts no
  attempt; it promotes and pops nothing. The acks answer as the first run did (ack-9).
]]
--- @include "time"
--- @include "record"
--- @include "batch"
--- @include "quarantine"
--- @include "promote"
--- @include "replay"
--- @include "complete"
--- @include "encoding"

local now = nowMillis()
-- Replay records of this call (acks' completions, then the leases): written once, at the end.
local records = {}
local acks = completeJobs(KEYS[4], KEYS[7], KEYS[5], KEYS[6], KEYS[8], KEYS[10], KEYS[11], KEYS[12], KEYS[13], now, 6, 11,
  records)
if not acks then return -2 end

local pairCount = (#ARGV - 10) / 2
local acked = table.concat(acks, "", 1, pairCount)
local ackDeleted = {}
for k = pairCount + 1, #acks do ackDeleted[#ackDeleted + 1] = acks[k] end

local find = string.find
-- The token's fixed part comes from the caller: checked once, not per job.
local tokenPackable = not find(ARGV[5], "\0", 1, true) and not find(ARGV[2], "\0", 1, true)
local jobs, looseJobs = {}, {}
-- Five fields per job into the packed reply, or one element each when a field holds a NUL byte.
local function answer(id, token, meta, payload, errorLines)
  local into = jobs
  if not tokenPackable or find(id, "\0", 1, true) or find(meta, "\0", 1, true)
    or find(payload, "\0", 1, true) or find(errorLines, "\0", 1, true) then
    into = looseJobs
  end
  into[#into + 1] = id
  into[#into + 1] = token
  into[#into + 1] = meta
  into[#into + 1] = payload
  into[#into + 1] = errorLines
end
local function packed()
  -- An empty last item puts a NUL after the last field too: every field ends with one.
  if #jobs > 0 then jobs[#jobs + 1] = "" end
  return table.concat(jobs, "\0")
end

-- Looked up on every run, the first included: a retry can reach Redis before the run it
-- retries (seen when connections are cut), and that late first run must answer as a replay.
local nonceField = "@" .. ARGV[9]
local first = replayed(KEYS[12], KEYS[13], nonceField, now)
if first then
  -- A replay: the first run's leases that are still held (one may have been reaped since).
  local leased = cmsgpack.unpack(first)
  for k = 2, #leased, 2 do
    local id, token = leased[k], leased[k + 1]
    if redis.call("HGET", KEYS[7], id) == token then
      answer(id, token, redis.call("HGET", KEYS[5], id) or "", redis.call("HGET", KEYS[6], id) or "",
        redis.call("HGET", KEYS[8], id) or "")
    end
  end
  recordReplay(KEYS[12], KEYS[13], now, records)
  return { now, leased[1], 0, packed(), looseJobs, {}, acked, ackDeleted, -2 }
end

local limit = tonumber(ARGV[1])
local maxBytes = tonumber(ARGV[10])
local promoteMax = tonumber(ARGV[4])
local promoted = promoteDue(KEYS[2], KEYS[5], KEYS[1], KEYS[14], now, promoteMax)
  + promoteDue(KEYS[3], KEYS[5], KEYS[1], KEYS[14], now, promoteMax)
local deadline = now + math.floor(tonumber(ARGV[3]))
local leased = { deadline }
local dropped = {}
local popped = 0
local full = false
local paused = limit > 0 and redis.call("EXISTS", KEYS[9]) == 1
if limit > 0 and not paused then
  local ids = redis.call("LPOP", KEYS[1], limit)
  if ids then
    popped = #ids
    -- One command per step for the whole batch, not one per job: the calls are the cost.
    local metas = hmgetEach(KEYS[5], ids)
    local payloads = hmgetEach(KEYS[6], ids)
    local errors = hmgetEach(KEYS[8], ids)
    local sequence = redis.call("HINCRBY", KEYS[10], "claims", #ids) - #ids
    local metaArgs, tokenArgs, leaseArgs = {}, {}, {}
    local seen = {}
    local tokenPrefix = ARGV[5] .. "|" .. ARGV[2] .. ":"
    local bytes = 0
    local taken = #ids
    for k, id in ipairs(ids) do
      if maxBytes > 0 and bytes > 0 and bytes >= maxBytes then
        -- The reply is full: the rest go back to the head of the queue, in their order.
        taken = k - 1
        full = true
        break
      end
      sequence = sequence + 1
      local meta, indexed
      if not seen[id] then meta, indexed = claimedMeta(metas[k]) end
      if meta then
        seen[id] = true
        local token = tokenPrefix .. sequence .. (indexed and "+" or "")
        metaArgs[#metaArgs + 1] = id
        metaArgs[#metaArgs + 1] = meta
        tokenArgs[#tokenArgs + 1] = id
        tokenArgs[#tokenArgs + 1] = token
        leaseArgs[#leaseArgs + 1] = deadline
        leaseArgs[#leaseArgs + 1] = id
        leased[#leased + 1] = id
        leased[#leased + 1] = token
        local payload, errorLines = payloads[k] or "", errors[k] or ""
        bytes = bytes + #payload + #errorLines + 1
        answer(id, token, meta, payload, errorLines)
      elseif not seen[id] then
        dropped[#dropped + 1] = id
        quarantine(KEYS[14], now, id, metas[k])
      end
    end
    if taken < #ids then
      local back = {}
      for k = #ids, taken + 1, -1 do back[#back + 1] = ids[k] end
      callEach("LPUSH", KEYS[1], back)
      popped = taken
    end
    if #metaArgs > 0 then
      withEncodingMarker(tokenArgs, leaseArgs)
      callEach("HSET", KEYS[5], metaArgs)
      callEach("HSET", KEYS[7], tokenArgs)
      callEach("ZADD", KEYS[4], leaseArgs)
    end
  end
end
-- A call that leased nothing records nothing: its replay is then a claim like any other.
if #leased > 1 then
  records[#records + 1] = nonceField
  records[#records + 1] = cmsgpack.pack(leased)
end
recordReplay(KEYS[12], KEYS[13], now, records)
local nextDue = -2
if limit > 0 and popped < limit and not full then
  nextDue = paused and -1 or earliestDue(KEYS[2], KEYS[3])
end
return { now, deadline, promoted, packed(), looseJobs, dropped, acked, ackDeleted, nextDue }
