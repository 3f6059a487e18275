--[[
  claim-11: completes the jobs the caller acks (as ack-7 does), promotes due scheduled and
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
    dropped    array   ids found in the ready list without a readable record (removed)
    acked      string  one character per pair: "1" completed, "0" lease not held
    ackDeleted array   ids deleted although retention is on (record missing, or trimmed)
    nextDue   int    when the ready list ran dry (fewer than `limit` > 0 ids popped) or the
                     queue is paused: the earliest due time of a scheduled or retry job, ms
                     (-1 when none or paused), so an idle worker knows how long to sleep
                     without asking again; -2 otherwise (not looked up)
  Codes: -2 malformed arguments.

  A paused queue still promotes but leases nothing. Running it twice leases more jobs to the
  same owner; tokens nobody holds expire and the reaper puts those jobs back. The acks
  complete nothing the second time: their tokens are gone.
]]
--- @include "time"
--- @include "record"
--- @include "batch"
--- @include "promote"
--- @include "complete"
--- @include "encoding"

local acks = completeJobs(KEYS[4], KEYS[7], KEYS[5], KEYS[6], KEYS[8], KEYS[10], KEYS[11], 6)
if not acks then return -2 end

local pairCount = (#ARGV - 8) / 2
local acked = table.concat(acks, "", 1, pairCount)
local ackDeleted = {}
for k = pairCount + 1, #acks do ackDeleted[#ackDeleted + 1] = acks[k] end

local limit = tonumber(ARGV[1])
local now = nowMillis()
local promoteMax = tonumber(ARGV[4])
local promoted = promoteDue(KEYS[2], KEYS[5], KEYS[1], now, promoteMax)
  + promoteDue(KEYS[3], KEYS[5], KEYS[1], now, promoteMax)
local deadline = now + math.floor(tonumber(ARGV[3]))
local jobs, looseJobs = {}, {}
local find = string.find
-- The token's fixed part comes from the caller: checked once, not per job.
local tokenPackable = not find(ARGV[5], "\0", 1, true) and not find(ARGV[2], "\0", 1, true)
local dropped = {}
local popped = 0
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
    for k, id in ipairs(ids) do
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
        local payload, errorLines = payloads[k] or "", errors[k] or ""
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
      elseif not seen[id] then
        dropped[#dropped + 1] = id
      end
    end
    if #metaArgs > 0 then
      withEncodingMarker(tokenArgs, leaseArgs)
      callEach("HSET", KEYS[5], metaArgs)
      callEach("HSET", KEYS[7], tokenArgs)
      callEach("ZADD", KEYS[4], leaseArgs)
    end
    if #dropped > 0 then
      deleteRecords(KEYS[5], KEYS[6], KEYS[8], dropped)
    end
  end
end
local nextDue = -2
if limit > 0 and popped < limit then
  nextDue = paused and -1 or earliestDue(KEYS[2], KEYS[3])
end
-- An empty last item puts a NUL after the last field too: every field ends with one.
if #jobs > 0 then jobs[#jobs + 1] = "" end
return { now, deadline, promoted, table.concat(jobs, "\0"), looseJobs, dropped, acked, ackDeleted, nextDue }
