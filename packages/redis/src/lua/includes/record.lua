-- record: a job's fields in the meta hash, "state:attempt:claims:enqueuedAt:runAt:diedAt:name".
-- A "+" right after the state letter marks a job whose id the caller chose: the id is in the
-- id index, and whoever deletes the job frees it there (generated ids are never indexed).
-- States: r ready, s scheduled, t retry, l leased, x dead, c completed (kept by retention). The payload lives in its own hash
-- and is never read here: Lua does not decode payload JSON.
-- Format version: this text is version 1, written without a mark. A later format writes
-- "<version>~" first; this version reads no such record and quarantines it (includes/quarantine.lua),
-- so a field added by newer code can never make an older worker misread or delete a job.
-- Numbers have at most 14 digits (and a sign): Lua writes a number back as digits only below
-- 10^14 ("%.14g"; 123456789012345678901 would come back as "1.2345678901235e+20", which no
-- reader parses). 14 digits of milliseconds reach the year 5138.

local RECORD_VERSION = 1
local MAX_DIGITS = 14
-- Longest text of a number field, sign included.
local MAX_NUMBER_TEXT = MAX_DIGITS + 1

local function inRange(digits)
  return #digits <= MAX_DIGITS or (#digits == MAX_NUMBER_TEXT and string.byte(digits, 1) == 45)
end

local function decodeMeta(text)
  if not text then return nil end
  local state, plus, attempt, claims, enqueuedAt, runAt, diedAt, name =
    string.match(text, "^(%a)(%+?):(%-?%d+):(%-?%d+):(%-?%d+):(%-?%d+):(%-?%d+):(.*)$")
  if not state or not (inRange(attempt) and inRange(claims) and inRange(enqueuedAt) and inRange(runAt)
    and inRange(diedAt)) then return nil end
  return {
    state = state,
    attempt = tonumber(attempt),
    claims = tonumber(claims),
    enqueuedAt = tonumber(enqueuedAt),
    runAt = tonumber(runAt),
    diedAt = tonumber(diedAt),
    name = name,
    indexed = plus == "+"
  }
end

local function encodeMeta(m)
  return string.format("%s%s:%d:%d:%d:%d:%d:", m.state, m.indexed and "+" or "", m.attempt, m.claims, m.enqueuedAt,
    m.runAt, m.diedAt) .. m.name
end

-- The meta entry of a job as `claim` leases it: state "l", one more attempt and one more claim,
-- the other fields copied without decoding them (claiming is every job's path); and whether its
-- id is indexed. nil when the entry is absent or malformed.
local function claimedMeta(text)
  if not text then return nil end
  local plus, attempt, claims, rest = string.match(text, "^%a(%+?):(%-?%d+):(%-?%d+)(:%-?%d+:%-?%d+:%-?%d+:.*)$")
  if not plus or #attempt > MAX_DIGITS or #claims > MAX_DIGITS then return nil end
  return "l" .. plus .. ":" .. (tonumber(attempt) + 1) .. ":" .. (tonumber(claims) + 1) .. rest, plus == "+"
end
