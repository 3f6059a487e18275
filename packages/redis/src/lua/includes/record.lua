-- record: a job's fields in the meta hash, "state:attempt:claims:enqueuedAt:runAt:diedAt:name".
-- A "+" right after the state letter marks a job whose id the caller chose: the id is in the
-- id index, and whoever deletes the job frees it there (generated ids are never indexed).
-- States: r ready, s scheduled, t retry, l leased, x dead, c completed (kept by retention). The payload lives in its own hash
-- and is never read here: Lua does not decode payload JSON.

local function decodeMeta(text)
  if not text then return nil end
  local state, plus, attempt, claims, enqueuedAt, runAt, diedAt, name =
    string.match(text, "^(%a)(%+?):(%-?%d+):(%-?%d+):(%-?%d+):(%-?%d+):(%-?%d+):(.*)$")
  if not state then return nil end
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
  if not plus then return nil end
  return "l" .. plus .. ":" .. (tonumber(attempt) + 1) .. ":" .. (tonumber(claims) + 1) .. rest, plus == "+"
end
